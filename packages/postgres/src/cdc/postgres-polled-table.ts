import {
  microsFromTimestampText,
  POLLED_ID_COLUMN,
  POLLED_TIMESTAMP_COLUMN,
  type PolledRow,
  type PolledTable,
  type PolledTableFetch,
  polledRowFromSql,
  type QueryMode,
  SluiceError,
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

/** The statements of one table, made once its timestamp column's type is known. */
interface Statements {
  readonly first: string;
  readonly after: string;
  readonly now: string;
}

const TEXT = `'YYYY-MM-DD HH24:MI:SS.US'`;
const INTEGER_TYPES = new Set(['int2', 'int4', 'int8']);
const TIMESTAMP_TYPES = new Set(['timestamp', 'timestamptz']);

/**
 * A PostgreSQL table polled by a `QueryChangeSource`, through the caller's `pg` pool (never ended here). Each
 * fetch is one statement (its own snapshot, under the default READ COMMITTED or any other level), run as a
 * prepared statement; it uses an index on the incrementing column, or on (timestamp column, incrementing
 * column) in timestamp+incrementing mode, so create one. The table and columns are checked at the first fetch.
 * Timestamps are compared in the column's own type: a `timestamptz` on UTC, a `timestamp` on the session's
 * wall clock; the database's clock is `clock_timestamp()`.
 */
export class PostgresPolledTable implements PolledTable {
  readonly schema: string;
  readonly table: string;
  readonly mode: QueryMode;
  readonly #pool: PgQueryable;
  readonly #o: ResolvedPostgresPolledTableOptions;
  #statements: Promise<Statements> | undefined;

  constructor(pool: PgQueryable, options: PostgresPolledTableOptions) {
    this.#o = resolvePostgresPolledTableOptions(options);
    this.#pool = pool;
    this.schema = this.#o.schema;
    this.table = this.#o.table;
    this.mode = this.#o.timestampColumn === undefined ? 'incrementing' : 'timestamp+incrementing';
  }

  async fetch({ after, upTo, limit }: PolledTableFetch): Promise<PolledRow[]> {
    const sql = await this.#prepare();
    const timestamped = this.mode === 'timestamp+incrementing';
    const bound = timestamped ? [timestampTextFromMicros(upTo!)] : [];
    const params =
      after === undefined
        ? [...bound, limit]
        : timestamped
          ? [timestampTextFromMicros(after.timestamp!), after.id, ...bound, limit]
          : [after.id, limit];
    const rows = await this.#query(after === undefined ? sql.first : sql.after, params);
    return rows.map(polledRowFromSql);
  }

  async databaseNow(): Promise<number> {
    const sql = await this.#prepare();
    const [row] = await this.#query(sql.now, []);
    return microsFromTimestampText(String(row?.['now']));
  }

  #prepare(): Promise<Statements> {
    this.#statements ??= this.#check().catch((error: unknown) => {
      this.#statements = undefined;
      throw error;
    });
    return this.#statements;
  }

  /** Checks the table and its columns, and writes the statements for the timestamp column's type. */
  async #check(): Promise<Statements> {
    const { schema, table, incrementingColumn: idColumn, timestampColumn: tsColumn } = this.#o;
    const relation = `${quoteIdentifier(schema)}.${quoteIdentifier(table)}`;
    const columns = await this.#query(
      `SELECT to_regclass($1)::text AS relation, a.attname AS name, t.typname AS type
       FROM (SELECT 1) one
       LEFT JOIN pg_attribute a ON a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = ANY($2::text[])
       LEFT JOIN pg_type t ON t.oid = a.atttypid`,
      [relation, [idColumn, tsColumn ?? idColumn]],
    );
    if (columns[0]?.['relation'] === null) throw tableMissing(`${schema}.${table}`);
    const typeOf = (name: string) => columns.find((c) => c['name'] === name)?.['type'] as string | undefined;
    checkColumn(`${schema}.${table}`, idColumn, typeOf(idColumn), INTEGER_TYPES, 'an integer');
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
    checkColumn(`${schema}.${table}`, tsColumn, type, TIMESTAMP_TYPES, 'a timestamptz or timestamp');
    const ts = `t.${quoteIdentifier(tsColumn)}`;
    // Compare in the column's own type (so its index is used); render on the same clock as `now`.
    const utc = type === 'timestamptz';
    const param = (n: number) => (utc ? `($${n}::timestamp AT TIME ZONE 'UTC')` : `$${n}::timestamp`);
    const rendered = utc ? `${ts} AT TIME ZONE 'UTC'` : ts;
    const selectTs = `${select}, to_char(${rendered}, ${TEXT}) AS ${quoteIdentifier(POLLED_TIMESTAMP_COLUMN)} FROM ${relation} t`;
    const order = `ORDER BY ${ts}, ${id}`;
    return {
      first: `${selectTs} WHERE ${ts} <= ${param(1)} AND ${id} IS NOT NULL ${order} LIMIT $2`,
      after: `${selectTs} WHERE (${ts}, ${id}) > (${param(1)}, $2) AND ${ts} <= ${param(3)} ${order} LIMIT $4`,
      now: `SELECT to_char(${utc ? `clock_timestamp() AT TIME ZONE 'UTC'` : 'clock_timestamp()::timestamp'}, ${TEXT}) AS now`,
    };
  }

  async #query(sql: string, params: unknown[]): Promise<Record<string, unknown>[]> {
    try {
      return (await queryPrepared<Record<string, unknown>>(this.#pool, sql, params)).rows;
    } catch (error) {
      const name = `${this.#o.schema}.${this.#o.table}`;
      if (isMissingRelation(error)) throw tableMissing(name);
      throw toSluiceError(error, `polling ${name}`, name);
    }
  }
}

function tableMissing(name: string): SluiceError {
  return new SluiceError(
    'SLUICE_QUERY_TABLE_MISSING',
    `table ${name} polled by a query-based source does not exist (or this role cannot see it): check the table and schema options and the role's privileges`,
  );
}

function checkColumn(
  table: string,
  column: string,
  type: string | undefined,
  allowed: ReadonlySet<string>,
  what: string,
): void {
  if (type !== undefined && allowed.has(type)) return;
  throw new SluiceError(
    'SLUICE_QUERY_COLUMN_INVALID',
    type === undefined
      ? `column ${column} of ${table} does not exist: check the query-based source's column options`
      : `column ${column} of ${table} is of type ${type}; a query-based source needs ${what} column there`,
  );
}

/** A PostgreSQL table for `queryChangeSource`: `postgresPolledTable(pool, { table, incrementingColumn, ... })`. */
export function postgresPolledTable(
  pool: PgQueryable,
  options: PostgresPolledTableOptions,
): PostgresPolledTable {
  return new PostgresPolledTable(pool, options);
}
