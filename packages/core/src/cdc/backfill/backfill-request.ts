/** An on-request snapshot of one table, or of the rows of it that `where` selects, and how far it got. */
export interface BackfillRequest {
  /** The request's id, unique in its snapshotter. */
  readonly id: string;
  /** Name of the change source (`ChangeSource.name`) whose stream the snapshot rows join. */
  readonly source: string;
  /** PostgreSQL schema or MySQL database of the table. */
  readonly schema: string;
  readonly table: string;
  /** A SQL condition on the table's columns that limits the rows (a key range, a tenant), or undefined for all. */
  readonly where: string | undefined;
  /** Rows selected per chunk. */
  readonly chunkSize: number;
  /**
   * The primary key (column values in key order) of the last row of the last chunk whose snapshot rows were all
   * delivered; undefined before the first. A resumed backfill selects the rows after it.
   */
  readonly afterKey: readonly unknown[] | undefined;
  /** Snapshot rows delivered so far. */
  readonly rowsDelivered: number;
}
