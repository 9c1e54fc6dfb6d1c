import { createHash } from 'node:crypto';
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
import { inReadCommitted, type MysqlPool, queryRows } from '../mysql-client.js';
import {
  type MysqlPolledTableOptions,
  type ResolvedMysqlPolledTableOptions,
  resolveMysqlPolledTableOptions,
} from './mysql-polled-table-options.js';

const TEXT = `'%Y-%m-%d %H:%i:%s.%f'`;
const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'bigint']);
const TIMESTAMP_TYPES = new Set(['timestamp', 'datetime']);
const OPTIONS = 'database and table';

/**
 * A MySQL/MariaDB table polled by a `QueryChangeSource`, through the caller's mysql2 pool (never ended here;
 * the reading lock keeps one of its connections while a source reads).
 * Each fetch is one statement in a READ COMMITTED read-only transaction (whatever the pool's sessions default
 * to, so no snapshot outlives a fetch); it uses an index on the incrementing column, or on (timestamp column,
 * incrementing column) in timestamp+incrementing mode, so create one. The table and columns are checked at
 * the first use. Timestamps are compared and rendered on the wall clock of the session's time zone, as is the
 * database's clock (`NOW(6)`; `UTC_TIMESTAMP(6)` in incrementing mode, which has no timestamp column).
 */
export class MysqlPolledTable extends SqlPolledTable {
  readonly #pool: MysqlPool;
  readonly #o: ResolvedMysqlPolledTableOptions;

  constructor(pool: MysqlPool, options: MysqlPolledTableOptions) {
    const o = resolveMysqlPolledTableOptions(options);
    super(o.database, o.table, o.timestampColumn !== undefined);
    this.#o = o;
    this.#pool = pool;
  }

  /**
   * `GET_LOCK` on a connection taken from the pool for as long as it is held (lock names are at most 64
   * characters, so the source's name is hashed).
   */
  async lock(name: string): Promise<PolledTableLock | undefined> {
    const key = [`sluice_query:${createHash('sha1').update(name).digest('hex')}`];
    let conn: Awaited<ReturnType<MysqlPool['getConnection']>>;
    try {
      conn = await this.#pool.getConnection();
    } catch (error) {
      throw toSluiceError(error, `locking ${name}`, this.table);
    }
    let state: 'held' | 'lost' | 'released' = 'held';
    // The connection died: the server dropped the lock with it. Close it at once, so that a small pool is not
    // left waiting for it.
    const onLoss = () => {
      if (state !== 'held') return;
      state = 'lost';
      conn.destroy();
    };
    const events = conn as unknown as {
      on?(event: string, listener: () => void): unknown;
      off?(event: string, listener: () => void): unknown;
    };
    events.on?.('error', onLoss);
    events.on?.('end', onLoss);
    const returned = () => {
      events.off?.('error', onLoss);
      events.off?.('end', onLoss);
      conn.release();
    };
    try {
      const [row] = await queryRows<{ locked: number | string | null }>(
        conn,
        'SELECT GET_LOCK(?, 0) AS locked',
        key,
      );
      if (Number(row?.locked) !== 1) {
        state = 'released';
        returned();
        return undefined;
      }
    } catch (error) {
      if (state === 'held') conn.destroy();
      state = 'released';
      throw toSluiceError(error, `locking ${name}`, this.table);
    }
    return {
      lost: () => state === 'lost',
      release: async () => {
        if (state !== 'held') return;
        state = 'released';
        const unlocked = await queryRows(conn, 'SELECT RELEASE_LOCK(?)', key).then(
          () => true,
          () => false,
        );
        // A connection that could not unlock is closed instead: the server releases the lock with it.
        if (unlocked) returned();
        else conn.destroy();
      },
    };
  }

  protected fetchParams({ after, upTo, limit }: PolledTableFetch): unknown[] {
    if (this.mode === 'incrementing') return after === undefined ? [limit] : [after.id, limit];
    const bound = timestampTextFromMicros(upTo!);
    if (after === undefined) return [bound, limit];
    const from = timestampTextFromMicros(after.timestamp!);
    return [bound, from, from, after.id, limit];
  }

  protected async statements(): Promise<PolledTableStatements> {
    const { database, table, incrementingColumn: idColumn, timestampColumn: tsColumn } = this.#o;
    const name = `${database}.${table}`;
    const columns = await this.query(
      `SELECT t.TABLE_NAME AS relation, c.COLUMN_NAME AS name, c.DATA_TYPE AS type
       FROM (SELECT 1) one
       LEFT JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = ? AND t.TABLE_NAME = ?
       LEFT JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME
         AND c.COLUMN_NAME IN (?, ?)`,
      [database, table, idColumn, tsColumn ?? idColumn],
      false,
    );
    if (columns[0]?.['relation'] == null) throw polledTableMissing(name, OPTIONS);
    // Column names are case-insensitive in MySQL.
    const typeOf = (column: string) =>
      (
        columns.find((c) => String(c['name']).toLowerCase() === column.toLowerCase())?.['type'] as
          | string
          | undefined
      )?.toLowerCase();
    checkPolledColumn(name, idColumn, typeOf(idColumn), INTEGER_TYPES, 'an integer');
    const relation = `${quoteIdentifier(database)}.${quoteIdentifier(table)}`;
    const id = `t.${quoteIdentifier(idColumn)}`;
    const select = `SELECT t.*, CAST(${id} AS CHAR) AS ${quoteIdentifier(POLLED_ID_COLUMN)}`;
    if (tsColumn === undefined) {
      return {
        first: `${select} FROM ${relation} t WHERE ${id} IS NOT NULL ORDER BY ${id} LIMIT ?`,
        after: `${select} FROM ${relation} t WHERE ${id} > ? ORDER BY ${id} LIMIT ?`,
        now: `SELECT DATE_FORMAT(UTC_TIMESTAMP(6), ${TEXT}) AS now`,
      };
    }
    checkPolledColumn(name, tsColumn, typeOf(tsColumn), TIMESTAMP_TYPES, 'a TIMESTAMP or DATETIME');
    const ts = `t.${quoteIdentifier(tsColumn)}`;
    const at = 'CAST(? AS DATETIME(6))';
    const from = `${select}, DATE_FORMAT(${ts}, ${TEXT}) AS ${quoteIdentifier(POLLED_TIMESTAMP_COLUMN)} FROM ${relation} t`;
    const order = `ORDER BY ${ts}, ${id}`;
    return {
      first: `${from} WHERE ${ts} <= ${at} AND ${id} IS NOT NULL ${order} LIMIT ?`,
      after: `${from} WHERE ${ts} <= ${at} AND (${ts} > ${at} OR (${ts} = ${at} AND ${id} > ?)) ${order} LIMIT ?`,
      now: `SELECT DATE_FORMAT(NOW(6), ${TEXT}) AS now`,
    };
  }

  protected async query(
    sql: string,
    params: unknown[],
    snapshot: boolean,
  ): Promise<Record<string, unknown>[]> {
    try {
      if (!snapshot) return await queryRows<Record<string, unknown>>(this.#pool, sql, params);
      return await inReadCommitted(
        this.#pool,
        (conn) => queryRows<Record<string, unknown>>(conn, sql, params),
        {
          readOnly: true,
        },
      );
    } catch (error) {
      const name = `${this.schema}.${this.table}`;
      if (isMissingRelation(error)) throw polledTableMissing(name, OPTIONS);
      throw toSluiceError(error, `polling ${name}`, name);
    }
  }
}

/** A MySQL/MariaDB table for `createQueryChangeSource`: `createMysqlPolledTable(pool, { database, table, incrementingColumn })`. */
export function createMysqlPolledTable(pool: MysqlPool, options: MysqlPolledTableOptions): MysqlPolledTable {
  return new MysqlPolledTable(pool, options);
}
