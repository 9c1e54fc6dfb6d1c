import { checkIdentifier } from '../identifier.js';

export interface PostgresPolledTableOptions {
  /** The table polled, e.g. `orders`. */
  readonly table: string;
  /** Its schema. Default `public`. */
  readonly schema?: string;
  /**
   * A unique integer column (`smallint`, `integer`, `bigint`), e.g. a `serial`/identity primary key. Incrementing
   * mode: strictly increasing, allocated from a sequence with CACHE 1 (the default). Timestamp mode: the
   * tie-break between rows with the same timestamp (unique is enough).
   */
  readonly incrementingColumn: string;
  /**
   * A `timestamptz` or `timestamp` column set to the current time on every insert and update (by the application
   * or a trigger; `clock_timestamp()` is closer to the commit than `now()`, the transaction's start). Given:
   * timestamp+incrementing mode (inserts and updates); absent: incrementing mode (inserts only). A `timestamp`
   * without time zone is read on the clock of the pool's session time zone, which must be the writers'.
   */
  readonly timestampColumn?: string;
}

export type ResolvedPostgresPolledTableOptions = Readonly<
  Required<Omit<PostgresPolledTableOptions, 'timestampColumn'>> & { timestampColumn: string | undefined }
>;

/** Defaults and checks (each name a PostgreSQL identifier, naming the offending field); the result is frozen. */
export function resolvePostgresPolledTableOptions(
  o: PostgresPolledTableOptions,
): ResolvedPostgresPolledTableOptions {
  const component = 'postgresPolledTable';
  return Object.freeze({
    table: checkIdentifier(component, 'table', o.table),
    schema: checkIdentifier(component, 'schema', o.schema ?? 'public'),
    incrementingColumn: checkIdentifier(component, 'incrementingColumn', o.incrementingColumn),
    timestampColumn:
      o.timestampColumn === undefined
        ? undefined
        : checkIdentifier(component, 'timestampColumn', o.timestampColumn),
  });
}
