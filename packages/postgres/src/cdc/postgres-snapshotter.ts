import {
  type BackfillOrder,
  type BackfillRequest,
  errorMessage,
  type PreflightCheck,
  type RowChange,
  type RowImage,
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
import type { PgQueryable } from '../pg-client.js';
import { BACKFILL_TABLE, WATERMARK_TABLE } from './backfill-tables.js';

export interface PostgresSnapshotterOptions {
  /** Schema of the watermark and backfill tables (`createChangeCapture` creates them). Default `sluice`. */
  readonly schema?: string;
  /** Rows per chunk of a backfill requested without a size. Default 2,000. */
  readonly chunkSize?: number;
}

interface RequestRow {
  id: string;
  source: string;
  table_schema: string;
  table_name: string;
  where_sql: string | null;
  chunk_size: number;
  after_key: unknown[] | null;
  rows_delivered: string;
}

/**
 * The PostgreSQL side of snapshots and backfills (see `withBackfill` in core): requests and progress in
 * `<schema>.cdc_backfill`, watermarks in `<schema>.cdc_watermark` (which `createChangeCapture` puts in the
 * publication), chunks read with a keyset query in primary-key order, each in a statement of its own (no locks
 * beyond a plain SELECT's). `pool` is the caller's; it is not ended on close.
 */
export class PostgresSnapshotter implements Snapshotter {
  readonly #db: PgQueryable;
  readonly #schema: string;
  readonly #s: string;
  readonly #chunkSize: number;

  constructor(db: PgQueryable, options: PostgresSnapshotterOptions = {}) {
    this.#db = db;
    this.#schema = checkIdentifier('postgresSnapshotter', 'schema', options.schema ?? 'sluice');
    this.#s = quoteIdentifier(this.#schema);
    this.#chunkSize = checkChunkSize('postgresSnapshotter', options.chunkSize ?? 2000);
  }

  async request(order: BackfillOrder): Promise<string> {
    const size = checkChunkSize('backfill', order.chunkSize ?? this.#chunkSize);
    const table = `${quoteIdentifier(order.schema)}.${quoteIdentifier(order.table)}`;
    await this.keyColumns(order.schema, order.table);
    if (order.where !== undefined) {
      try {
        await this.#db.query(`EXPLAIN SELECT 1 FROM ${table} WHERE (${order.where})`);
      } catch (cause) {
        throw invalidWhereError(order.schema, order.table, cause);
      }
    }
    const { rows } = await this.#query<{ id: string }>(
      'recording a backfill request',
      `INSERT INTO ${this.#s}.${BACKFILL_TABLE} (source, table_schema, table_name, where_sql, chunk_size)
       VALUES ($1, $2, $3, $4, $5) RETURNING id`,
      [order.source, order.schema, order.table, order.where ?? null, size],
    );
    return rows[0]!.id;
  }

  async pending(source: string): Promise<BackfillRequest[]> {
    const { rows } = await this.#query<RequestRow>(
      'reading backfill requests',
      `SELECT id, source, table_schema, table_name, where_sql, chunk_size, after_key, rows_delivered
       FROM ${this.#s}.${BACKFILL_TABLE} WHERE source = $1 AND status = 'pending' ORDER BY id`,
      [source],
    );
    return rows.map(backfillRequestFromRow);
  }

  async everRequested(source: string): Promise<boolean> {
    const { rows } = await this.#query(
      'reading backfill requests',
      `SELECT 1 FROM ${this.#s}.${BACKFILL_TABLE} WHERE source = $1 LIMIT 1`,
      [source],
    );
    return rows.length > 0;
  }

  async keyColumns(schema: string, table: string): Promise<readonly string[]> {
    const { rows } = await this.#query<{ name: string }>(
      `reading the primary key of ${schema}.${table}`,
      `SELECT a.attname AS name
       FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
       WHERE i.indrelid = to_regclass($1) AND i.indisprimary
       ORDER BY array_position(i.indkey::int2[], a.attnum)`,
      [`${quoteIdentifier(schema)}.${quoteIdentifier(table)}`],
    );
    if (rows.length === 0) {
      throw noPrimaryKeyError(schema, table);
    }
    return rows.map((r) => r.name);
  }

  async writeWatermark(source: string, watermark: string): Promise<void> {
    await this.#query(
      'writing a backfill watermark',
      `INSERT INTO ${this.#s}.${WATERMARK_TABLE} (source, watermark) VALUES ($1, $2)
       ON CONFLICT (source) DO UPDATE SET watermark = excluded.watermark, written_at = clock_timestamp()`,
      [source, watermark],
    );
  }

  watermarkOf(change: RowChange): { source: string; watermark: string } | undefined {
    if (change.table !== WATERMARK_TABLE || change.schema !== this.#schema || change.after === undefined)
      return undefined;
    return { source: String(change.after.source), watermark: String(change.after.watermark) };
  }

  async readChunk(
    request: BackfillRequest,
    keyColumns: readonly string[],
    afterKey: readonly unknown[] | undefined,
    limit: number,
  ): Promise<RowImage[]> {
    const key = keyColumns.map(quoteIdentifier);
    const conditions: string[] = [];
    if (request.where !== undefined) conditions.push(`(${request.where})`);
    if (afterKey !== undefined) {
      conditions.push(`(${key.join(', ')}) > (${afterKey.map((_, i) => `$${i + 1}`).join(', ')})`);
    }
    const { rows } = await this.#query<RowImage>(
      `reading a chunk of ${request.schema}.${request.table}`,
      `SELECT * FROM ${quoteIdentifier(request.schema)}.${quoteIdentifier(request.table)}
       ${conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''}
       ORDER BY ${key.join(', ')} LIMIT ${Math.trunc(limit)}`,
      afterKey === undefined ? [] : [...afterKey],
    );
    return rows.map((r) => ({ ...r }));
  }

  async saveProgress(
    requestId: string,
    afterKey: readonly unknown[] | undefined,
    rowsDelivered: number,
    done: boolean,
  ): Promise<void> {
    await this.#query(
      'saving backfill progress',
      `UPDATE ${this.#s}.${BACKFILL_TABLE}
       SET after_key = $2, rows_delivered = $3, updated_at = now(),
           status = CASE WHEN $4 THEN 'done' ELSE status END, finished_at = CASE WHEN $4 THEN now() END
       WHERE id = $1`,
      [requestId, afterKey === undefined ? null : JSON.stringify(afterKey), rowsDelivered, done],
    );
  }

  /** Every request of `source` (or of all sources), newest first, for `sluice backfill --status`. */
  async list(
    source?: string,
  ): Promise<Array<BackfillRequest & { status: string; requestedAt: Date; finishedAt: Date | null }>> {
    const { rows } = await this.#query<
      RequestRow & { status: string; requested_at: Date; finished_at: Date | null }
    >(
      'reading backfill requests',
      `SELECT id, source, table_schema, table_name, where_sql, chunk_size, after_key, rows_delivered, status, requested_at, finished_at
       FROM ${this.#s}.${BACKFILL_TABLE} WHERE $1::text IS NULL OR source = $1 ORDER BY id DESC`,
      [source ?? null],
    );
    return rows.map((r) => ({
      ...backfillRequestFromRow(r),
      status: r.status,
      requestedAt: r.requested_at,
      finishedAt: r.finished_at,
    }));
  }

  /** Cancels a pending request; a relay running it stops after its current chunk. Whether one was pending. */
  async cancel(requestId: string): Promise<boolean> {
    const { rowCount } = await this.#query(
      'cancelling a backfill',
      `UPDATE ${this.#s}.${BACKFILL_TABLE} SET status = 'cancelled', updated_at = now(), finished_at = now()
       WHERE id = $1 AND status = 'pending'`,
      [requestId],
    );
    return (rowCount ?? 0) > 0;
  }

  /** The backfill tables exist, and the watermark table is in a publication (read-only catalogue queries). */
  async preflight(): Promise<readonly PreflightCheck[]> {
    const name = `backfill tables ${this.#schema}.${BACKFILL_TABLE}, ${WATERMARK_TABLE}`;
    try {
      const { rows } = await this.#db.query<{ tables: number; published: number }>(
        `SELECT (to_regclass($1) IS NOT NULL)::int + (to_regclass($2) IS NOT NULL)::int AS tables,
                (SELECT count(*)::int FROM pg_publication_tables WHERE schemaname = $3 AND tablename = $4) AS published`,
        [`${this.#s}.${BACKFILL_TABLE}`, `${this.#s}.${WATERMARK_TABLE}`, this.#schema, WATERMARK_TABLE],
      );
      const r = rows[0]!;
      if (r.tables < 2)
        return [{ name, ok: false, detail: 'missing: run createChangeCapture (with this backfillSchema)' }];
      if (r.published === 0) {
        const detail = `${WATERMARK_TABLE} is in no publication, so backfills would wait for watermarks for ever: run createChangeCapture (it adds it to the publication)`;
        return [{ name, ok: false, detail }];
      }
      return [{ name, ok: true, detail: `exist; ${WATERMARK_TABLE} is published` }];
    } catch (error) {
      return [{ name, ok: false, detail: `cannot check them: ${errorMessage(error)}` }];
    }
  }

  async close(): Promise<void> {}

  async #query<R>(
    doing: string,
    sql: string,
    params: unknown[],
  ): Promise<{ rows: R[]; rowCount: number | null }> {
    try {
      return await this.#db.query<R>(sql, params);
    } catch (error) {
      throw toSluiceError(
        error,
        doing,
        `the backfill tables in schema ${this.#schema} are missing: run createChangeCapture (it creates them)`,
      );
    }
  }
}

/** `createPostgresSnapshotter(pool)`: the PostgreSQL side of `withBackfill`. */
export function createPostgresSnapshotter(
  db: PgQueryable,
  options?: PostgresSnapshotterOptions,
): PostgresSnapshotter {
  return new PostgresSnapshotter(db, options);
}
