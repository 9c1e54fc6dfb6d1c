import type { PreflightCheck } from '../preflight-check.js';
import type { RowChange, RowImage } from '../row-change.js';
import type { BackfillRequest } from './backfill-request.js';

/** What a snapshotter is asked to record: the table (`schema.table`) and an optional row condition. */
export interface BackfillOrder {
  readonly source: string;
  readonly schema: string;
  readonly table: string;
  readonly where?: string | undefined;
  readonly chunkSize?: number | undefined;
}

/**
 * The database side of snapshots and backfills with watermarks (the DBLog method that Debezium's incremental
 * snapshots also use), for one database: a table of backfill requests with their progress, a watermark table
 * whose writes show up in the source's change stream, and chunked reads of a table in primary-key order.
 * {@link withBackfill} runs the method; the snapshotter only talks to the database.
 *
 * Implementers own:
 * - `writeWatermark` commits in its own transaction, and the watermark table is captured by the change source
 *   (in the publication, in the binlog filter), so the write appears in the stream in commit order;
 * - `readChunk` runs in a transaction of its own that starts after it is called (so it sees every transaction
 *   committed before the preceding low watermark), returns whole rows decoded like the change source decodes
 *   them, ordered by the primary key, and never holds locks that block the application's writes;
 * - `saveProgress` is durable when it resolves; requests and progress survive restarts of the relay;
 * - quoting identifiers; `where` is operator-supplied SQL and is used as given, inside parentheses.
 * It does not own ordering against live changes, deduplication or delivery.
 */
export interface Snapshotter {
  /** Records a backfill request; the relay of that source picks it up. Returns the request's id. */
  request(order: BackfillOrder): Promise<string>;

  /** Requests of `source` not yet finished or cancelled, oldest first. */
  pending(source: string): Promise<BackfillRequest[]>;

  /** Whether any backfill, finished or not, was ever requested for `source` (decides the initial snapshot). */
  everRequested(source: string): Promise<boolean>;

  /** Primary-key columns of a table, in key order; fails with a clear error if the table has none. */
  keyColumns(schema: string, table: string): Promise<readonly string[]>;

  /** Commits a write of `watermark` for `source` to the watermark table, in a transaction of its own. */
  writeWatermark(source: string, watermark: string): Promise<void>;

  /** The watermark a change of the watermark table carries, or undefined if `change` is of another table. */
  watermarkOf(change: RowChange): { source: string; watermark: string } | undefined;

  /** Up to `limit` rows of the request's table (and `where`) with primary keys after `afterKey`, in key order. */
  readChunk(
    request: BackfillRequest,
    keyColumns: readonly string[],
    afterKey: readonly unknown[] | undefined,
    limit: number,
  ): Promise<RowImage[]>;

  /** Durably records that the rows up to `afterKey` were delivered; `done` finishes the request. */
  saveProgress(
    requestId: string,
    afterKey: readonly unknown[] | undefined,
    rowsDelivered: number,
    done: boolean,
  ): Promise<void>;

  /**
   * Optional. Checks, read-only, that the backfill and watermark tables exist (and, where the database can tell,
   * that the watermark table is captured), for `sluice check`; resolves failed checks, never rejects.
   */
  preflight?(): Promise<readonly PreflightCheck[]>;

  /** Releases the snapshotter's connections. Idempotent. */
  close(): Promise<void>;
}
