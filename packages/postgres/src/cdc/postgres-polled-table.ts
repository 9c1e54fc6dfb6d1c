import {
  checkPolledColumn,
  POLLED_ID_COLUMN,
  POLLED_TIMESTAMP_COLUMN,
  type PolledTableFetch,
  type PolledTableStatements,
  polledTableMissing,
  SqlPolledTable,
  timestampTextFromMicros,
} from '@sluice/core';
import { isMissingRelation, toSluiceError } from '../errors.js';
import { quoteIdentifier } from '../identifier.js';
import { type PgQueryable, queryPrepared } from '../pg-client.js';
import {
  type PostgresPolledTableOptions,
  type ResolvedPostgresPolledTableOptions,
  resolvePostgresPolledTableOptions,
} from './postgres-polled-table-options.js';

const TEXT = `'YYYY-MM-DD HH24:MI:SS.US'`;
const INTEGER_TYPES = new Set(['int2', 'int4', 'int8']);
const TIMESTAMP_TYPES = new Set(['timestamp', 'timestamptz']);
const OPTIONS = 'schema and table';

/**
 * A PostgreSQL table polled by a `QueryChangeSource`, through the caller's `pg` pool (never ended here). Each
 * fetch is one statement (its own snapshot, under the default READ COMMITTED or any other level), run as a
 * prepared statement; it uses an index on the incrementing column, or on (timestamp column, incrementing
 * column) in timestamp+incrementing mode, so create one. The table and columns are checked at the first use.
 * Timestamps are compared in the column's own type: a `timestamptz` on UTC, a `timestamp` on the session's
 * wall clock; the database's clock is `clock_timestamp()`.
 */
export class PostgresPolledTable extends SqlPolledTable {
  readonly #pool: PgQueryable;
  readonly #o: ResolvedPostgresPolledTableOptions;

  constructor(pool: PgQueryable, options: PostgresPolledTableOptions) {
    const o = resolvePostgresPolledTableOptions(options);
    super(o.schema, o.table, o.timestampColumn !== undefined);
    this.#o = o;
    this.#pool = pool;
  }

  protected fetchParams({ after, upTo, limit }: PolledTableFetch): unknown[] {
    if (this.mode === 'incrementing') return after === undefined ? [limit] : [after.id, limit];
    const bound = timestampTextFromMicros(upTo!);
    if (after === undefined) return [bound, limit];
    return [timestampTextFromMicros(after.timestamp!), after.id, bound, limit];
  }

  protected async statements(): Promise<PolledTableStatements> {
    const { schema, table, incrementingColumn: idColumn, timestampColumn: tsColumn } = this.#o;
    const name = `${schema}.${table}`;
    const relation = `${quoteIdentifier(schema)}.${quoteIdentifier(table)}`;
    const columns = await this.query(
      `SELECT to_regclass($1)::text AS relation, a.attname AS name, t.typname AS type
       FROM (SELECT 1) one
       LEFT JOIN pg_attribute a ON a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
         AND a.attname = ANY($2::text[])
       LEFT JOIN pg_type t ON t.oid = a.atttypid`,
      [relation, [idColumn, tsColumn ?? idColumn]],
      false,
    );
    if (columns[0]?.['relation'] === null) throw polledTableMissing(name, OPTIONS);
    const typeOf = (column: string) =>
      columns.find((c) => c['name'] === column)?.['type'] as string | undefined;
    checkPolledColumn(name, idColumn, typeOf(idColumn), INTEGER_TYPES, 'an integer');
    const id = `t.${quoteIdentifier(idColumn)}`;
    const select = `SELECT t.*, ${id}::text AS ${quoteIdentifier(POLLED_ID_COLUMN)}`;
    if (tsColumn === undefined) {
      return {
        first: `${select} FROM ${relation} t WHERE ${id} IS NOT NULL ORDER BY ${id} LIMIT $1`,
        after: `${select} FROM ${relation} t WHERE ${id} > $1 ORDER BY ${id} LIMIT $2`,
        now: `SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', ${TEXT}) AS now`,
      };
    }
    const type = typeOf(tsColumn);
    checkPolledColumn(name, tsColumn, type, TIMESTAMP_TYPES, 'a timestamptz or timestamp');
    const ts = `t.${quoteIdentifier(tsColumn)}`;
    // Compare in the column's own type (so its index is used); render on the same clock as `now`.
    const utc = type === 'timestamptz';
    const param = (n: number) => (utc ? `($${n}::timestamp AT TIME ZONE 'UTC')` : `$${n}::timestamp`);
    const rendered = utc ? `${ts} AT TIME ZONE 'UTC'` : ts;
    const clock = utc ? `clock_timestamp() AT TIME ZONE 'UTC'` : 'clock_timestamp()::timestamp';
    const from = `${select}, to_char(${rendered}, ${TEXT}) AS ${quoteIdentifier(POLLED_TIMESTAMP_COLUMN)} FROM ${relation} t`;
    const order = `ORDER BY ${ts}, ${id}`;
    return {
      first: `${from} WHERE ${ts} <= ${param(1)} AND ${id} IS NOT NULL ${order} LIMIT $2`,
      after: `${from} WHERE (${ts}, ${id}) > (${param(1)}, $2) AND ${ts} <= ${param(3)} ${order} LIMIT $4`,
      now: `SELECT to_char(${clock}, ${TEXT}) AS now`,
    };
  }

  /** Every statement is its own snapshot on a pool, whether or not it is a fetch. */
  protected async query(
    sql: string,
    params: unknown[],
    _snapshot?: boolean,
  ): Promise<Record<string, unknown>[]> {
    try {
      return (await queryPrepared<Record<string, unknown>>(this.#pool, sql, params)).rows;
    } catch (error) {
      const name = `${this.schema}.${this.table}`;
      if (isMissingRelation(error)) throw polledTableMissing(name, OPTIONS);
      throw toSluiceError(error, `polling ${name}`, name);
    }
  }
}

/** A PostgreSQL table for `queryChangeSource`: `postgresPolledTable(pool, { table, incrementingColumn, ... })`. */
export function postgresPolledTable(
  pool: PgQueryable,
  options: PostgresPolledTableOptions,
): PostgresPolledTable {
  return new PostgresPolledTable(pool, options);
}
