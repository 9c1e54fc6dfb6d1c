/**
 * One prerequisite of a change source, checked without starting it (`sluice check`): the server's settings,
 * the role's privileges, the objects the source reads (slot, publication, table, columns) and whether its
 * stored position can still be read.
 */
export interface PreflightCheck {
  /** What was checked, short, e.g. `wal_level` or `slot catalogue_cdc`. */
  readonly name: string;
  /** Whether the source can run as far as this check goes. */
  readonly ok: boolean;
  /** What was found; when not ok, also what to do about it. */
  readonly detail: string;
}
