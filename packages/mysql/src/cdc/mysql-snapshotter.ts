import {
  type BackfillOrder,
  type BackfillRequest,
  errorMessage,
  type PreflightCheck,
  type RowChange,
  type RowImage,
  type SluiceError,
  type Snapshotter,
} from '@sluice/core';
import {
  backfillRequestFromRow,
  checkChunkSize,
  invalidWhereError,
  noPrimaryKeyError,
} from '@sluice/core/adapter';
import { toSluiceError } from '../errors.js';
import { checkIdentifier, quoteIdentifier } from '../identifier.js';
import type { MysqlQueryable, MysqlWriteResult } from '../mysql-client.js';
import { BACKFILL_TABLE, WATERMARK_TABLE } from './mysql-backfill-tables.js';

export interface MysqlSnapshotterOptions {
  /** Database of the watermark and backfill tables (`createMysqlBackfillTables` creates them). Default `sluice`. */
  readonly database?: string;
  /** Rows per chunk of a backfill requested without a size. Default 2,000. */
  readonly chunkSize?: number;
}

interface RequestRow {
  id: number | string;
  source: string;
  table_schema: string;
  table_name: string;
  where_sql: string | null;
  chunk_size: number;
  after_key: string | null;
  rows_delivered: number | string;
  status: string;
  requested_at: Date;
  finished_at: Date | null;
}

const COLUMNS =
  'id, source, table_schema, table_name, where_sql, chunk_size, after_key, rows_delivered, status, requested_at, finished_at';

/**
 * The MySQL/MariaDB side of snapshots and backfills (see `withBackfill` in core): requests and progress in
 * `<database>.cdc_backfill`, watermarks in `<database>.cdc_watermark` (which the binlog source must capture),
 * chunks read with a keyset query in primary-key order, each a statement of its own (a consistent read under
 * InnoDB's REPEATABLE READ, no locks). Rows come with the values `MysqlChangeSource` gives (BIGINT and DECIMAL
 * as strings, dates and times as text; TIMESTAMP in the session's time zone, so run it in UTC as the binlog
 * source reads them). `pool` is the caller's (a mysql2 promise pool); it is not ended on close.
 */
export class MysqlSnapshotter implements Snapshotter {
  readonly #db: MysqlQueryable;
  readonly #database: string;
  readonly #d: string;
  readonly #chunkSize: number;

  constructor(db: MysqlQueryable, options: MysqlSnapshotterOptions = {}) {
    this.#db = db;
    this.#database = checkIdentifier('mysqlSnapshotter', 'database', options.database ?? 'sluice');
    this.#d = quoteIdentifier(this.#database);
    this.#chunkSize = checkChunkSize('mysqlSnapshotter', options.chunkSize ?? 2000);
  }

  async request(order: BackfillOrder): Promise<string> {
    const size = checkChunkSize('backfill', order.chunkSize ?? this.#chunkSize);
    await this.keyColumns(order.schema, order.table);
    if (order.where !== undefined) {
      try {
        await this.#db.query(`EXPLAIN SELECT 1 FROM ${tableName(order)} WHERE (${order.where})`);
      } catch (cause) {
        throw invalidWhereError(order.schema, order.table, cause);
      }
    }
    const result = await this.#write(
      'recording a backfill request',
      `INSERT INTO ${this.#d}.${BACKFILL_TABLE} (source, table_schema, table_name, where_sql, chunk_size)
       VALUES (?, ?, ?, ?, ?)`,
      [order.source, order.schema, order.table, order.where ?? null, size],
    );
    return String(result.insertId);
  }

  async pending(source: string): Promise<BackfillRequest[]> {
    const rows = await this.#query<RequestRow>(
      'reading backfill requests',
      `SELECT ${COLUMNS} FROM ${this.#d}.${BACKFILL_TABLE} WHERE source = ? AND status = 'pending' ORDER BY id`,
      [source],
    );
    return rows.map(toRequest);
  }

  async everRequested(source: string): Promise<boolean> {
    const rows = await this.#query(
      'reading backfill requests',
      `SELECT 1 FROM ${this.#d}.${BACKFILL_TABLE} WHERE source = ? LIMIT 1`,
      [source],
    );
    return rows.length > 0;
  }

  async keyColumns(schema: string, table: string): Promise<readonly string[]> {
    const rows = await this.#query<{ name: string }>(
      `reading the primary key of ${schema}.${table}`,
      `SELECT COLUMN_NAME AS name FROM information_schema.KEY_COLUMN_USAGE
       WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION`,
      [schema, table],
    );
    if (rows.length === 0) {
      throw noPrimaryKeyError(schema, table);
    }
    return rows.map((r) => r.name);
  }

  async writeWatermark(source: string, watermark: string): Promise<void> {
    await this.#write(
      'writing a backfill watermark',
      `INSERT INTO ${this.#d}.${WATERMARK_TABLE} (source, watermark) VALUES (?, ?)
       ON DUPLICATE KEY UPDATE watermark = VALUES(watermark), written_at = CURRENT_TIMESTAMP(6)`,
      [source, watermark],
    );
  }

  watermarkOf(change: RowChange): { source: string; watermark: string } | undefined {
    if (change.table !== WATERMARK_TABLE || change.schema !== this.#database || change.after === undefined) {
      return undefined;
    }
    return { source: String(change.after['source']), watermark: String(change.after['watermark']) };
  }

  async readChunk(
    request: BackfillRequest,
    keyColumns: readonly string[],
    afterKey: readonly unknown[] | undefined,
    limit: number,
  ): Promise<RowImage[]> {
    const key = keyColumns.map(quoteIdentifier);
    const conditions: string[] = [];
    const params: unknown[] = [];
    if (request.where !== undefined) conditions.push(`(${request.where})`);
    if (afterKey !== undefined) {
      // (a, b) > (x, y) spelled out, which MySQL and MariaDB turn into an index range on every version.
      const alternatives = key.map((column, i) => {
        for (let j = 0; j < i; j++) params.push(afterKey[j]);
        params.push(afterKey[i]);
        return `(${[...key.slice(0, i).map((c) => `${c} = ?`), `${column} > ?`].join(' AND ')})`;
      });
      conditions.push(`(${alternatives.join(' OR ')})`);
    }
    return this.#query<RowImage>(
      `reading a chunk of ${request.schema}.${request.table}`,
      `SELECT * FROM ${tableName(request)}
       ${conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''}
       ORDER BY ${key.join(', ')} LIMIT ${Math.trunc(limit)}`,
      params,
      true,
    );
  }

  async saveProgress(
    requestId: string,
    afterKey: readonly unknown[] | undefined,
    rowsDelivered: number,
    done: boolean,
  ): Promise<void> {
    await this.#write(
      'saving backfill progress',
      `UPDATE ${this.#d}.${BACKFILL_TABLE}
       SET after_key = ?, rows_delivered = ?, updated_at = CURRENT_TIMESTAMP(6),
           status = IF(?, 'done', status), finished_at = IF(?, CURRENT_TIMESTAMP(6), NULL)
       WHERE id = ?`,
      [afterKey === undefined ? null : JSON.stringify(afterKey), rowsDelivered, done, done, requestId],
    );
  }

  /** Every request of `source` (or of all sources), newest first, for `sluice backfill --list`. */
  async list(
    source?: string,
  ): Promise<Array<BackfillRequest & { status: string; requestedAt: Date; finishedAt: Date | null }>> {
    const rows = await this.#query<RequestRow>(
      'reading backfill requests',
      `SELECT ${COLUMNS} FROM ${this.#d}.${BACKFILL_TABLE} WHERE ? IS NULL OR source = ? ORDER BY id DESC`,
      [source ?? null, source ?? null],
    );
    return rows.map((r) => ({
      ...toRequest(r),
      status: r.status,
      requestedAt: r.requested_at,
      finishedAt: r.finished_at,
    }));
  }

  /** Cancels a pending request; a relay running it stops after its current chunk. Whether one was pending. */
  async cancel(requestId: string): Promise<boolean> {
    const result = await this.#write(
      'cancelling a backfill',
      `UPDATE ${this.#d}.${BACKFILL_TABLE}
       SET status = 'cancelled', updated_at = CURRENT_TIMESTAMP(6), finished_at = CURRENT_TIMESTAMP(6)
       WHERE id = ? AND status = 'pending'`,
      [requestId],
    );
    return result.affectedRows > 0;
  }

  async close(): Promise<void> {}

  /** With `asBinlog`, values as the binlog source decodes them (for chunk rows); otherwise the pool's own. */
  async #query<R>(doing: string, sql: string, params: unknown[], asBinlog = false): Promise<R[]> {
    try {
      // BIGINT and DECIMAL as exact strings, dates and times as the server's text: mysql2 options of this query
      // only (the pool's own settings are the caller's).
      const query = asBinlog
        ? { sql, dateStrings: true, supportBigNumbers: true, bigNumberStrings: true }
        : sql;
      const [rows] = await this.#db.query(query as string, params);
      return (rows as R[]).map((r) => ({ ...r }));
    } catch (error) {
      throw this.#error(error, doing);
    }
  }

  async #write(doing: string, sql: string, params: unknown[]): Promise<MysqlWriteResult> {
    try {
      const [header] = await this.#db.query(sql, params);
      const h = header as Partial<MysqlWriteResult>;
      return { affectedRows: Number(h.affectedRows ?? 0), insertId: Number(h.insertId ?? 0) };
    } catch (error) {
      throw this.#error(error, doing);
    }
  }

  /** The backfill and watermark tables exist (read-only). */
  async preflight(): Promise<readonly PreflightCheck[]> {
    const name = `backfill tables ${this.#database}.${BACKFILL_TABLE}, ${WATERMARK_TABLE}`;
    try {
      const [rows] = await this.#db.query(
        'SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN (?, ?)',
        [this.#database, BACKFILL_TABLE, WATERMARK_TABLE],
      );
      return Number((rows as { n: number }[])[0]?.n) === 2
        ? [{ name, ok: true, detail: 'exist (the source must capture the watermark table too)' }]
        : [{ name, ok: false, detail: 'missing: run createMysqlBackfillTables' }];
    } catch (error) {
      return [{ name, ok: false, detail: `cannot check them: ${errorMessage(error)}` }];
    }
  }

  #error(error: unknown, doing: string): SluiceError {
    return toSluiceError(
      error,
      doing,
      `the backfill tables in database ${this.#database} are missing: run createMysqlBackfillTables`,
    );
  }
}

function tableName(t: { schema: string; table: string }): string {
  return `${quoteIdentifier(t.schema)}.${quoteIdentifier(t.table)}`;
}

/** `createMysqlSnapshotter(pool)`: the MySQL/MariaDB side of `withBackfill`. */
export function createMysqlSnapshotter(
  db: MysqlQueryable,
  options?: MysqlSnapshotterOptions,
): MysqlSnapshotter {
  return new MysqlSnapshotter(db, options);
}

/** after_key is JSON text in MySQL/MariaDB (a TEXT column, the same on both). */
function toRequest(r: RequestRow): BackfillRequest {
  return backfillRequestFromRow({
    ...r,
    after_key: r.after_key === null ? null : (JSON.parse(r.after_key) as unknown[]),
  });
}
