import type { PreflightCheck } from '../preflight-check.js';
import type { PolledRow } from './polled-row.js';
import type { PolledTableLock } from './polled-table-lock.js';
import type { QueryCursor } from './query-cursor.js';

/**
 * What a query-based source can see of a table: `incrementing` (a strictly increasing integer column, such as an
 * auto-increment id: inserts only) or `timestamp+incrementing` (a last-changed timestamp plus a unique integer
 * column as a tie-break: inserts and updates).
 */
export type QueryMode = 'incrementing' | 'timestamp+incrementing';

/** One fetch: rows after `after` (all rows from the first when undefined), at most `limit` of them. */
export interface PolledTableFetch {
  readonly after: QueryCursor | undefined;
  /** Timestamp+incrementing mode only: no row whose timestamp is later than this (microseconds) is returned. */
  readonly upTo: number | undefined;
  readonly limit: number;
}

/**
 * One table polled with SQL by a {@link QueryChangeSource}, in one database's dialect (the SQL lives in the
 * database's package; the algorithm that makes polling safe lives in the source).
 *
 * Implementers own:
 * - `fetch`: one statement that sees only committed rows (READ COMMITTED or a fresh snapshot per statement,
 *   never a snapshot kept across calls), returning the rows after `after` in the mode's order: by the
 *   incrementing column (`id > after.id`), or by (timestamp, id) (`(timestamp, id) > (after.timestamp,
 *   after.id) AND timestamp <= upTo`), at most `limit`; rows whose timestamp is NULL are never returned;
 *   every column of the row, also columns added to the table later (no statement cached across such a change);
 * - quoting identifiers and checking at first use that the table and columns exist with usable types, failing
 *   with a permanent error naming them otherwise; connection failures are retryable errors;
 * - `lock`: a lock per source name held by a session of its own, so that one process at a time reads a source;
 * - `databaseNow`: the database server's clock (never this process's), in microseconds on the scale of the
 *   timestamps `fetch` returns (the same time zone and precision as the column).
 *
 * It does not own the cursor, gaps, the safety delay, retries or the position: the source does.
 */
export interface PolledTable {
  /** PostgreSQL schema or MySQL database of the table, for the changes' `schema`. */
  readonly schema: string;
  readonly table: string;
  readonly mode: QueryMode;
  fetch(request: PolledTableFetch): Promise<PolledRow[]>;
  /** The database's clock now, in microseconds (see above). */
  databaseNow(): Promise<number>;
  /** Takes the reading lock of the source `name`, or resolves undefined while another session holds it. */
  lock(name: string): Promise<PolledTableLock | undefined>;
  /**
   * Optional. Checks, read-only, that the table and the columns it polls exist with usable types (for
   * `sluice check`); resolves a failed check (never rejects) saying what is wrong.
   */
  preflight?(): Promise<readonly PreflightCheck[]>;
}
