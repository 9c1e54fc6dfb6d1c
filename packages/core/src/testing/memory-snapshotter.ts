import type { BackfillRequest } from '../cdc/backfill/backfill-request.js';
import type { BackfillOrder, Snapshotter } from '../cdc/backfill/snapshotter.js';
import type { RowChange, RowImage } from '../cdc/row-change.js';
import type { MemoryChangeLog } from './memory-change-source.js';

/** A row of the in-memory table: an integer `id` key and a value. */
export type MemoryRow = { readonly id: number; readonly value: string };

/**
 * One table (`app.items`, key `id`) in memory whose writes go to a {@link MemoryChangeLog}, with the snapshotter
 * over it, for unit tests of the backfill machinery only (real snapshotters are tested against real databases).
 * `hooks` run between the steps of a chunk, so a test can commit live changes inside the watermark window.
 */
export class MemoryTable implements Snapshotter {
  readonly rows = new Map<number, MemoryRow>();
  readonly requests: Array<BackfillRequest & { done: boolean }> = [];
  /** The table as it was when each watermark was committed. */
  readonly stateAtWatermark = new Map<string, Map<number, MemoryRow>>();
  readonly hooks: { afterLowWatermark?: () => void; afterChunk?: () => void } = {};
  #sequence = 0;
  readonly #log: MemoryChangeLog;

  constructor(log: MemoryChangeLog, initialSequence = 0) {
    this.#log = log;
    this.#sequence = initialSequence;
  }

  /** Commits one transaction of writes: `value` undefined deletes the row (if there is one). */
  write(...all: Array<{ id: number; value: string | undefined }>): void {
    const writes = all.filter((w) => w.value !== undefined || this.rows.has(w.id));
    if (writes.length === 0) return;
    const sequence = ++this.#sequence;
    const changes = writes.map(({ id, value }, index): RowChange => {
      const before = this.rows.get(id);
      const after = value === undefined ? undefined : { id, value };
      if (after === undefined) this.rows.delete(id);
      else this.rows.set(id, after);
      return {
        operation: after === undefined ? 'delete' : before === undefined ? 'insert' : 'update',
        schema: 'app',
        table: 'items',
        before,
        after,
        transactionId: `tx-${sequence}`,
        commitTime: 1_700_000_000_000 + sequence,
        position: `p-${sequence}-${index}`,
        sequence,
        index,
      };
    });
    this.#log.commit(...changes);
  }

  /** Commits a TRUNCATE of the table: every row goes, one change without row images. */
  truncate(): void {
    const sequence = ++this.#sequence;
    this.rows.clear();
    this.#log.commit({
      operation: 'truncate',
      schema: 'app',
      table: 'items',
      before: undefined,
      after: undefined,
      transactionId: `tx-${sequence}`,
      commitTime: 1_700_000_000_000 + sequence,
      position: `p-${sequence}-0`,
      sequence,
      index: 0,
    });
  }

  async request(order: BackfillOrder): Promise<string> {
    const id = String(this.requests.length + 1);
    this.requests.push({
      id,
      source: order.source,
      schema: order.schema,
      table: order.table,
      where: order.where,
      chunkSize: order.chunkSize ?? 10,
      afterKey: undefined,
      rowsDelivered: 0,
      done: false,
    });
    return id;
  }

  async pending(source: string): Promise<BackfillRequest[]> {
    return this.requests.filter((r) => r.source === source && !r.done);
  }

  async everRequested(source: string): Promise<boolean> {
    return this.requests.some((r) => r.source === source);
  }

  async keyColumns(): Promise<readonly string[]> {
    return ['id'];
  }

  async writeWatermark(source: string, watermark: string): Promise<void> {
    const sequence = ++this.#sequence;
    this.stateAtWatermark.set(watermark, new Map(this.rows));
    this.#log.commit({
      operation: 'update',
      schema: 'sluice',
      table: 'watermarks',
      before: undefined,
      after: { source, watermark },
      transactionId: `tx-${sequence}`,
      commitTime: 1_700_000_000_000 + sequence,
      position: `p-${sequence}-0`,
      sequence,
      index: 0,
    });
    if (watermark.startsWith('low:')) this.hooks.afterLowWatermark?.();
  }

  watermarkOf(change: RowChange): { source: string; watermark: string } | undefined {
    if (change.table !== 'watermarks') return undefined;
    const after = change.after as { source: string; watermark: string };
    return { source: after.source, watermark: after.watermark };
  }

  async readChunk(
    request: BackfillRequest,
    _keyColumns: readonly string[],
    afterKey: readonly unknown[] | undefined,
    limit: number,
  ): Promise<RowImage[]> {
    const after = afterKey === undefined ? Number.NEGATIVE_INFINITY : Number(afterKey[0]);
    const min =
      request.where === undefined ? Number.NEGATIVE_INFINITY : Number(/id >= (\d+)/.exec(request.where)![1]);
    const rows = [...this.rows.values()]
      .filter((r) => r.id > after && r.id >= min)
      .sort((a, b) => a.id - b.id)
      .slice(0, limit)
      .map((r) => ({ ...r }));
    this.hooks.afterChunk?.();
    return rows;
  }

  async saveProgress(
    requestId: string,
    afterKey: readonly unknown[] | undefined,
    rowsDelivered: number,
    done: boolean,
  ): Promise<void> {
    const i = this.requests.findIndex((r) => r.id === requestId);
    this.requests[i] = { ...this.requests[i]!, afterKey, rowsDelivered, done };
  }

  async close(): Promise<void> {}
}
