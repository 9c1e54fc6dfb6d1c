import {
  checkPolledColumn,
  POLLED_ID_COLUMN,
  POLLED_TIMESTAMP_COLUMN,
  type PolledTableFetch,
  type PolledTableLock,
  type PolledTableStatements,
  polledTableMissing,
  SqlPolledTable,
  timestampTextFromMicros,
} from '@sluice/core/adapter';
import { isMissingRelation, toSluiceError } from '../errors.js';
import { quoteIdentifier } from '../identifier.js';
import type { PgPool, PgPoolClient } from '../pg-client.js';
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
 * A PostgreSQL table polled by a `QueryChangeSource`, through the caller's `pg` pool (never ended here; the
 * reading lock keeps one of its connections checked out while a source reads). Each
 * fetch is one statement (its own snapshot, under the default READ COMMITTED or any other level); it uses an index on the incrementing column, or on (timestamp column, incrementing
 * column) in timestamp+incrementing mode, so create one. The table and columns are checked at the first use.
 * Timestamps are compared in the column's own type: a `timestamptz` on UTC, a `timestamp` on the session's
 * wall clock; the database's clock is `clock_timestamp()`.
 */
export class PostgresPolledTable extends SqlPolledTable {
  readonly #pool: PgPool;
  readonly #o: ResolvedPostgresPolledTableOptions;

  constructor(pool: PgPool, options: PostgresPolledTableOptions) {
    const o = resolvePostgresPolledTableOptions(options);
    super(o.schema, o.table, o.timestampColumn !== undefined);
    this.#o = o;
    this.#pool = pool;
  }

  /** A session-level advisory lock on a connection checked out of the pool for as long as it is held. */
  async lock(name: string): Promise<PolledTableLock | undefined> {
    const key = [`sluice_query:${name}`];
    let client: PgPoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw toSluiceError(error, `locking ${name}`, this.table);
    }
    let state: 'held' | 'lost' | 'released' = 'held';
    // The connection died: the server dropped the lock with it. Give the connection back at once (destroyed),
    // so that a small pool is not left waiting for it.
    const onError = (error: Error) => {
      if (state !== 'held') return;
      state = 'lost';
      client.release(error);
    };
    client.on('error', onError);
    try {
      const r = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked',
        key,
      );
      if (r.rows[0]?.locked !== true) {
        state = 'released';
        client.off('error', onError);
        client.release();
        return undefined;
      }
    } catch (error) {
      if (state === 'held') client.release(error as Error);
      state = 'released';
      throw toSluiceError(error, `locking ${name}`, this.table);
    }
    return {
      lost: () => state === 'lost',
      release: async () => {
        if (state !== 'held') return;
        state = 'released';
        const unlocked = await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', key).then(
          () => true,
          () => false,
        );
        // A connection that could not unlock is closed instead: the server releases the lock with it.
        if (unlocked) client.off('error', onError);
        client.release(unlocked ? undefined : new Error('advisory unlock failed'));
      },
    };
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
      // Never a named prepared statement: `SELECT t.*` changes its result type when the table gains a column,
      // which a prepared statement would turn into an error on every later fetch of that connection.
      return (await this.#pool.query<Record<string, unknown>>(sql, params)).rows;
    } catch (error) {
      const name = `${this.schema}.${this.table}`;
      if (isMissingRelation(error)) throw polledTableMissing(name, OPTIONS);
      throw toSluiceError(error, `polling ${name}`, name);
    }
  }
}

/** A PostgreSQL table for `createQueryChangeSource`: `createPostgresPolledTable(pool, { table, incrementingColumn, ... })`. */
export function createPostgresPolledTable(
  pool: PgPool,
  options: PostgresPolledTableOptions,
): PostgresPolledTable {
  return new PostgresPolledTable(pool, options);
}
