import { randomUUID } from 'node:crypto';
import { errorCode, errorMessage, isRetryable } from '../../errors.js';
import { silentLogger } from '../../util/logger.js';
import type { ChangeSource, ChangeSourceStats } from '../change-source.js';
import type { PreflightCheck } from '../preflight-check.js';
import type { RowChange, RowImage } from '../row-change.js';
import {
  type BackfillOptions,
  type ResolvedBackfillOptions,
  resolveBackfillOptions,
} from './backfill-options.js';
import type { BackfillRequest } from './backfill-request.js';
import { type BackfillStats, BackfillTotals } from './backfill-stats.js';
import { keyValues, rowKey } from './row-key.js';

/** A change handed over (or a watermark swallowed), until it is acknowledged. */
interface Handed {
  /** The position the relay acknowledges (the source's, or a snapshot row's own). */
  readonly position: string;
  /** The wrapped source's position to acknowledge once this and everything before it is done. */
  readonly inner: string;
  /** A watermark: never handed over, done as soon as everything before it is. */
  readonly swallowed: boolean;
  /** Runs when this is acknowledged (a chunk's progress). */
  onDone?: () => Promise<void>;
}

/** The backfill being run, with its progress in this process. */
interface Active {
  readonly request: BackfillRequest;
  readonly keyColumns: readonly string[];
  afterKey: readonly unknown[] | undefined;
  /** Rows handed over so far (saved as acknowledged chunks complete). */
  rowsHanded: number;
  chunks: number;
}

/** One chunk between its low and high watermarks. */
interface Chunk {
  readonly number: number;
  readonly low: string;
  readonly high: string;
  lowSeen: boolean;
  /** Keys of the table changed by live changes between the watermarks. */
  readonly changed: Set<string>;
  /** The table was truncated between the watermarks: every row of the chunk is stale. */
  truncated: boolean;
  /** The rows the chunk's query returned, set before the high watermark is written. */
  rows: RowImage[] | undefined;
  lastKey: readonly unknown[] | undefined;
  last: boolean;
  /** When the high watermark was committed; a warning follows if the stream does not show it. */
  highWrittenAt: number | undefined;
  warned: boolean;
}

/** How long a committed high watermark may stay unseen in the stream before a warning. */
const UNSEEN_WATERMARK_WARNING_MS = 60_000;

/**
 * A {@link ChangeSource} that interleaves snapshots of tables with its live changes, by the watermark method of
 * DBLog (which Debezium's incremental snapshots also use): for each chunk of a table it commits a low watermark,
 * selects the chunk in primary-key order, and commits a high watermark; reading the stream, it drops from the
 * chunk every row that a live change touched between the two watermarks (that change is newer, or the same),
 * and hands the rest over as `snapshot` changes at the high watermark's place. A snapshot row therefore never
 * follows a newer live change of its key, and what follows it is newer than it.
 *
 * Backfills are requested through the snapshotter (`sluice backfill`, or `initialSnapshot` the first time a
 * source runs) and run one at a time, a chunk at a time, while live changes flow. Progress is saved when a
 * chunk's rows are all acknowledged, so a restarted relay resumes after the last whole chunk delivered (rows of
 * a chunk cut short are selected again, fresh). Watermark changes are never handed over. A retryable failure of
 * the snapshotter (the database restarting) is logged and retried after the poll interval while live changes
 * keep flowing; any other failure is thrown from `read`, which stops the relay.
 */
export class BackfillingSource implements ChangeSource {
  readonly name: string;
  readonly #source: ChangeSource;
  readonly #o: ResolvedBackfillOptions;
  /** Changes ready to hand over, in order (a chunk's snapshot rows can outnumber a read's limit). */
  #ready: RowChange[] = [];
  /** Everything handed over or swallowed and not yet acknowledged, in order. */
  #handed: Handed[] = [];
  #lastForwarded: string | undefined;
  #active: Active | undefined;
  #chunk: Chunk | undefined;
  /** Requests finished in this process whose completion is not saved yet: not to be picked up again. */
  readonly #completing = new Set<string>();
  /** The last acknowledgement's work, which the next one waits for. */
  #finishing: Promise<void> = Promise.resolve();
  #step: Promise<void> | undefined;
  #stepError: unknown;
  #nextPollAt = 0;
  #initialized = false;
  #closed = false;
  readonly #totals = new BackfillTotals();

  constructor(source: ChangeSource, options: BackfillOptions) {
    this.#source = source;
    this.#o = resolveBackfillOptions(options);
    this.name = source.name;
  }

  async read(limit: number, maxWaitMs: number, signal?: AbortSignal): Promise<RowChange[]> {
    if (!this.#initialized) await this.#initialize();
    this.#throwStepError();
    this.#startStep();
    if (this.#ready.length === 0) {
      const changes = await this.#source.read(limit, maxWaitMs, signal);
      for (const change of changes) this.#take(change);
      this.#throwStepError();
      this.#startStep();
    }
    await this.#acknowledgeSwallowedPrefix();
    this.#warnIfWatermarkUnseen();
    return this.#ready.splice(0, limit);
  }

  async acknowledge(position: string): Promise<void> {
    const at = this.#handed.findIndex((h) => h.position === position);
    if (at < 0) return; // acknowledged before
    const done = this.#handed.splice(0, at + 1);
    while (this.#handed[0]?.swallowed === true) done.push(this.#handed.shift()!);
    await this.#finish(done);
  }

  stats(): Promise<ChangeSourceStats> {
    return this.#source.stats();
  }

  /** The backfill running now, if any: its request and how many rows were handed over. */
  progress(): { request: BackfillRequest; rowsHanded: number; chunks: number } | undefined {
    const a = this.#active;
    return a === undefined ? undefined : { request: a.request, rowsHanded: a.rowsHanded, chunks: a.chunks };
  }

  /** The running backfill's progress, and rows and chunks per table since this source was created. */
  backfillStats(): BackfillStats {
    const a = this.#active;
    const table = a === undefined ? '' : `${a.request.schema}.${a.request.table}`;
    return {
      active:
        a === undefined ? undefined : { request: a.request.id, table, rows: a.rowsHanded, chunks: a.chunks },
      tables: this.#totals.list(),
    };
  }

  /** The wrapped source's checks, then the snapshotter's (its tables). */
  async preflight(): Promise<readonly PreflightCheck[]> {
    const source = (await this.#source.preflight?.()) ?? [];
    return [...source, ...((await this.#o.snapshotter.preflight?.()) ?? [])];
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#step?.catch(() => {});
    await Promise.all([this.#source.close(), this.#o.snapshotter.close()]);
  }

  async #initialize(): Promise<void> {
    const s = this.#o.snapshotter;
    if (this.#o.initialSnapshot.length > 0 && !(await s.everRequested(this.name))) {
      for (const t of this.#o.initialSnapshot) await s.request({ source: this.name, ...t });
      this.#o.logger?.info('requested the initial snapshot', {
        source: this.name,
        tables: this.#o.initialSnapshot,
      });
    }
    this.#initialized = true;
  }

  #throwStepError(): void {
    if (this.#stepError === undefined) return;
    const error = this.#stepError;
    this.#stepError = undefined;
    throw error;
  }

  /** Starts the next chunk (finding the next request first if none runs) unless one is under way. */
  #startStep(): void {
    if (this.#step !== undefined || this.#chunk !== undefined || this.#closed) return;
    if (this.#active === undefined && Date.now() < this.#nextPollAt) return;
    this.#step = this.#runStep()
      .catch((error: unknown) => {
        this.#chunk = undefined;
        this.#active = undefined;
        this.#nextPollAt = Date.now() + this.#o.pollIntervalMs;
        if (isRetryable(error)) {
          // The database is away (restarting, say): live changes keep flowing; the backfill resumes from its
          // saved progress once it answers. Blocking the stream here would hold the server's shutdown too.
          (this.#o.logger ?? silentLogger).warn('a backfill step failed; retrying after the poll interval', {
            source: this.name,
            code: errorCode(error),
            message: errorMessage(error),
          });
          return;
        }
        this.#stepError = error;
      })
      .finally(() => {
        this.#step = undefined;
      });
  }

  async #runStep(): Promise<void> {
    const s = this.#o.snapshotter;
    if (this.#active === undefined) {
      this.#nextPollAt = Date.now() + this.#o.pollIntervalMs;
      const request = (await s.pending(this.name)).find((r) => !this.#completing.has(r.id));
      if (request === undefined) return;
      const keyColumns = await s.keyColumns(request.schema, request.table);
      this.#active = {
        request,
        keyColumns,
        afterKey: request.afterKey,
        rowsHanded: request.rowsDelivered,
        chunks: 0,
      };
      this.#totals.started(`${request.schema}.${request.table}`);
      (this.#o.logger ?? silentLogger).info('backfill started', {
        source: this.name,
        request: request.id,
        table: `${request.schema}.${request.table}`,
        where: request.where,
        resumedAfter: request.afterKey,
      });
    }
    const active = this.#active;
    if (active.chunks > 0 && !(await s.pending(this.name)).some((r) => r.id === active.request.id)) {
      (this.#o.logger ?? silentLogger).info('backfill cancelled', {
        source: this.name,
        request: active.request.id,
      });
      this.#active = undefined;
      return;
    }
    const chunk: Chunk = {
      number: ++active.chunks,
      low: `low:${randomUUID()}`,
      high: `high:${randomUUID()}`,
      lowSeen: false,
      changed: new Set(),
      truncated: false,
      rows: undefined,
      lastKey: active.afterKey,
      last: false,
      highWrittenAt: undefined,
      warned: false,
    };
    this.#chunk = chunk;
    await s.writeWatermark(this.name, chunk.low);
    const size = active.request.chunkSize;
    const rows = await s.readChunk(active.request, active.keyColumns, active.afterKey, size);
    chunk.rows = rows;
    chunk.last = rows.length < size;
    if (rows.length > 0) chunk.lastKey = keyValues(rows[rows.length - 1]!, active.keyColumns);
    await s.writeWatermark(this.name, chunk.high);
    chunk.highWrittenAt = Date.now();
  }

  #warnIfWatermarkUnseen(): void {
    const chunk = this.#chunk;
    if (chunk?.highWrittenAt === undefined || chunk.warned) return;
    if (Date.now() - chunk.highWrittenAt < UNSEEN_WATERMARK_WARNING_MS) return;
    chunk.warned = true;
    (this.#o.logger ?? silentLogger).warn(
      'a backfill watermark committed a minute ago has not shown in the change stream: is the watermark table captured (in the publication, in the binlog filter)? The backfill waits for it',
      { source: this.name, watermark: chunk.high },
    );
  }

  /** Takes a change read from the source: a watermark moves the chunk on, anything else is handed over. */
  #take(change: RowChange): void {
    const watermark = this.#o.snapshotter.watermarkOf(change);
    if (watermark !== undefined) {
      const handed: Handed = { position: change.position, inner: change.position, swallowed: true };
      this.#handed.push(handed);
      const chunk = this.#chunk;
      if (chunk === undefined || watermark.source !== this.name) return;
      if (watermark.watermark === chunk.low) chunk.lowSeen = true;
      else if (watermark.watermark === chunk.high && chunk.lowSeen)
        this.#handOverChunk(chunk, change, handed);
      return;
    }
    const chunk = this.#chunk;
    const request = this.#active?.request;
    if (
      chunk?.lowSeen &&
      request !== undefined &&
      change.table === request.table &&
      change.schema === request.schema
    ) {
      if (change.operation === 'truncate') chunk.truncated = true;
      const keyColumns = this.#active!.keyColumns;
      const before = rowKey(change.before, keyColumns);
      const after = rowKey(change.after, keyColumns);
      if (before !== undefined) chunk.changed.add(before);
      if (after !== undefined) chunk.changed.add(after);
    }
    this.#handed.push({ position: change.position, inner: change.position, swallowed: false });
    this.#ready.push(change);
  }

  /** At the high watermark: the chunk's rows that no live change touched since the low one, as snapshot rows. */
  #handOverChunk(chunk: Chunk, high: RowChange, highHanded: Handed): void {
    const active = this.#active!;
    this.#chunk = undefined;
    if (chunk.rows === undefined) return; // cannot happen: the rows are set before the high watermark is written
    const rows = chunk.truncated
      ? []
      : chunk.rows.filter((row) => !chunk.changed.has(rowKey(row, active.keyColumns)!));
    let last = highHanded;
    rows.forEach((row, i) => {
      const position = `${high.position}~backfill:${active.request.id}:${chunk.number}:${i}`;
      this.#ready.push({
        operation: 'snapshot',
        schema: active.request.schema,
        table: active.request.table,
        before: undefined,
        after: row,
        transactionId: high.transactionId,
        commitTime: high.commitTime,
        position,
        sequence: high.sequence,
        index: high.index + 1 + i,
      });
      last = { position, inner: high.position, swallowed: false };
      this.#handed.push(last);
    });
    active.rowsHanded += rows.length;
    this.#totals.chunkHandedOver(`${active.request.schema}.${active.request.table}`, rows.length);
    active.afterKey = chunk.lastKey;
    const { request } = active;
    const rowsDelivered = active.rowsHanded;
    const afterKey = chunk.lastKey;
    const done = chunk.last;
    last.onDone = () => this.#o.snapshotter.saveProgress(request.id, afterKey, rowsDelivered, done);
    if (done) {
      this.#completing.add(request.id);
      this.#active = undefined;
      const finished = last.onDone;
      last.onDone = async () => {
        try {
          await finished();
        } finally {
          // Saved or not: if the save failed, the request is still pending and may be picked up again.
          this.#completing.delete(request.id);
        }
        (this.#o.logger ?? silentLogger).info('backfill finished', {
          source: this.name,
          request: request.id,
          rows: rowsDelivered,
        });
      };
    }
  }

  /** Watermarks at the head of what is out are done as soon as everything before them is. */
  async #acknowledgeSwallowedPrefix(): Promise<void> {
    if (this.#handed[0]?.swallowed !== true) return;
    const done: Handed[] = [];
    while (this.#handed[0]?.swallowed === true) done.push(this.#handed.shift()!);
    await this.#finish(done);
  }

  /** Saves the progress of what is done, then acknowledges the source behind it; one call at a time, in order. */
  #finish(done: Handed[]): Promise<void> {
    const next = this.#finishing.then(async () => {
      for (const h of done) if (h.onDone !== undefined) await h.onDone();
      const inner = done[done.length - 1]?.inner;
      if (inner !== undefined && inner !== this.#lastForwarded) {
        this.#lastForwarded = inner;
        await this.#source.acknowledge(inner);
      }
    });
    this.#finishing = next.catch(() => {});
    return next;
  }
}

/**
 * Adds snapshots and on-request backfills to a change source:
 * `createChangeOutbox({ source: withBackfill(source, { snapshotter: createPostgresSnapshotter(pool) }), map, eventSource })`.
 * Map `snapshot` changes to the entity topic of the contract, so new consumers can rebuild current state.
 */
export function withBackfill(source: ChangeSource, options: BackfillOptions): BackfillingSource {
  return new BackfillingSource(source, options);
}
