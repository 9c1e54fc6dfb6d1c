import { checkIdentifier } from '../identifier.js';

export interface MysqlPolledTableOptions {
  /** The database (schema) of the table. */
  readonly database: string;
  /** The table polled, e.g. `orders`. */
  readonly table: string;
  /**
   * A unique integer column, e.g. an `AUTO_INCREMENT` primary key. Incrementing mode: strictly increasing,
   * allocated with `auto_increment_increment = 1`. Timestamp mode: the tie-break between rows with the same
   * timestamp (unique is enough).
   */
  readonly incrementingColumn: string;
  /**
   * A `TIMESTAMP(6)` or `DATETIME(6)` column set to the current time on every insert and update (e.g. `DEFAULT
   * CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)`). Given: timestamp+incrementing mode (inserts and
   * updates); absent: incrementing mode (inserts only). Compared on the wall clock of the pool's session time
   * zone, which must be the writers' and should have no daylight-saving jumps (UTC).
   */
  readonly timestampColumn?: string;
}

export type ResolvedMysqlPolledTableOptions = Readonly<
  Required<Omit<MysqlPolledTableOptions, 'timestampColumn'>> & { timestampColumn: string | undefined }
>;

/** Checks (each name a MySQL identifier, naming the offending field); the result is frozen. */
export function resolveMysqlPolledTableOptions(o: MysqlPolledTableOptions): ResolvedMysqlPolledTableOptions {
  const component = 'mysqlPolledTable';
  return Object.freeze({
    database: checkIdentifier(component, 'database', o.database),
    table: checkIdentifier(component, 'table', o.table),
    incrementingColumn: checkIdentifier(component, 'incrementingColumn', o.incrementingColumn),
    timestampColumn:
      o.timestampColumn === undefined
        ? undefined
        : checkIdentifier(component, 'timestampColumn', o.timestampColumn),
  });
}
