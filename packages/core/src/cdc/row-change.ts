/** A row image: column name to value, as the source's driver decodes it. */
export type RowImage = Readonly<Record<string, unknown>>;

/**
 * One change of one row, read from a database's log (PostgreSQL WAL, MySQL/MariaDB binlog) or by polling, as a
 * {@link ChangeSource} hands it over: only changes of committed transactions, in commit order.
 */
export interface RowChange {
  readonly operation: 'insert' | 'update' | 'delete';
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
  /** The database's id of the change's transaction (PostgreSQL xid, MySQL GTID). */
  readonly transactionId: string;
  /** When the transaction committed, in milliseconds since the epoch. */
  readonly commitTime: number;
  /**
   * Where the source resumes after this change once it is acknowledged (PostgreSQL: an LSN; MySQL: a GTID set
   * or binlog file and position). Opaque to everything but the source.
   */
  readonly position: string;
  /**
   * A number that increases with every change of the source in commit order and is the same when the change
   * is read again after a restart (derived from the log position). Orders acknowledgements and gives the
   * change's events their `sequence`. At most 2^48, so that sixteen events per change stay exact integers.
   */
  readonly sequence: number;
}
