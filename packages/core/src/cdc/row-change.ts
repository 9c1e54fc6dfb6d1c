/** A row image: column name to value, as the source's driver decodes it. */
export type RowImage = Readonly<Record<string, unknown>>;

/**
 * One change of one row, read from a database's log (PostgreSQL WAL, MySQL/MariaDB binlog) or by polling, as a
 * {@link ChangeSource} hands it over: only changes of committed transactions, in commit order.
 */
export interface RowChange {
  /**
   * What happened to the row. `snapshot` is a row read by a snapshot or backfill rather than a change: `after`
   * is the row's current state at the change's place in the stream, `before` is undefined. Query-based sources
   * cannot tell an insert from an update: their timestamp mode reports `update` with no before image.
   * `truncate` says every row of the table was removed at once (PostgreSQL `TRUNCATE`): no row images; a
   * mapping that keeps state per key must handle it (or throw, which stops the relay), never silently drop it.
   */
  readonly operation: 'insert' | 'update' | 'delete' | 'snapshot' | 'truncate';
  /** PostgreSQL schema or MySQL database of the table. */
  readonly schema: string;
  readonly table: string;
  /**
   * The row before the change (update, delete) where the database gives it: every column with PostgreSQL's
   * `REPLICA IDENTITY FULL` or MySQL's `binlog_row_image=FULL`, the key columns only otherwise; undefined for
   * an insert or when the source has no before image.
   */
  readonly before: RowImage | undefined;
  /** The row after the change (insert, update); undefined for a delete. */
  readonly after: RowImage | undefined;
  /**
   * The database's id of the change's transaction (PostgreSQL xid, MySQL GTID). Query-based sources, which
   * cannot see transactions, name the row version instead: `<id>`, or `<id>@<timestamp>`.
   */
  readonly transactionId: string;
  /**
   * When the transaction committed, in milliseconds since the epoch. Query-based sources: the row's timestamp,
   * or (incrementing mode) the database's time when the row was read.
   */
  readonly commitTime: number;
  /**
   * Where the source resumes after this change once it is acknowledged (PostgreSQL: an LSN; MySQL: a GTID set
   * or binlog file and position). Opaque to everything but the source.
   */
  readonly position: string;
  /**
   * The transaction's place in commit order (PostgreSQL: its commit LSN; MySQL: its GTID sequence number):
   * the same for every change of one transaction, higher for every later transaction, and the same when the
   * transaction is read again after a restart. A positive safe integer. It becomes the `sequence` of the
   * change's events, which orders a key's events across transactions. Query-based sources: the id
   * (incrementing mode) or the timestamp in microseconds (timestamp mode, with the id as `index`).
   */
  readonly sequence: number;
  /** The change's place within its transaction, from 0; with `sequence` it names the change for good. */
  readonly index: number;
}
