import { ClosedError, SluiceError } from '../../errors.js';
import { sleep } from '../../util/sleep.js';
import type { ChangeSource, ChangeSourceStats } from '../change-source.js';
import type { PreflightCheck } from '../preflight-check.js';
import type { RowChange } from '../row-change.js';
import { GapObservations } from './gap-observations.js';
import type { PolledRow } from './polled-row.js';
import type { PolledTableLock } from './polled-table-lock.js';
import {
  type QueryChangeSourceOptions,
  type ResolvedQueryChangeSourceOptions,
  resolveQueryChangeSourceOptions,
} from './query-change-source-options.js';
import { formatCursor, parseCursor, type QueryCursor } from './query-cursor.js';
import { timestampTextFromMicros } from './timestamp-text.js';

/** What one poll found: the changes to hand over, and when polling again may find more. */
interface Poll {
  readonly changes: RowChange[];
  /** A gap becomes passable this many ms from now (incrementing mode). */
  readonly retryInMs?: number;
}

/**
 * Query-based data liberation: a {@link ChangeSource} that polls a table with SQL, for databases whose log
 * cannot be read (no replication privilege, a managed service, a replica). `createChangeOutbox` maps its changes to
 * contract events and the relay ships them like any other source's.
 *
 * **Incrementing mode** (a strictly increasing integer column such as an auto-increment id) sees inserts only,
 * reported as `insert`. Ids are allocated when a row is written but become visible when its transaction
 * commits, so a lower id can appear after a higher one: a poll that simply reads `id > last` would skip it for
 * good. This source never moves past a gap (a missing id below a visible one) until the gap is `safetyDelayMs`
 * old on the database's clock, counted from when it was first seen; a rolled-back insert leaves a gap for ever,
 * which is passed after that delay. The ids must be allocated one after another (PostgreSQL sequences with
 * CACHE 1, MySQL/MariaDB `auto_increment_increment = 1`), and every transaction must commit within the delay
 * after a higher id became visible; otherwise pass `contiguousIds: false`, which hands a row over only once it
 * has been visible for the delay, and still needs the commits within it. Change: `sequence` is the id, `index`
 * 0, `commitTime` the database's time when the row was read.
 *
 * **Timestamp+incrementing mode** (a last-changed timestamp the application or a trigger sets on every insert
 * and update, plus a unique integer column as a tie-break) sees inserts and updates, both reported as `update`
 * with no before image. It reads only rows whose timestamp is at least `safetyDelayMs` old on the database's
 * clock, in (timestamp, id) order, and resumes after the last (timestamp, id) handed over, so a batch limit
 * that cuts a run of equal timestamps resumes inside it. The timestamp must be set at or before commit (never
 * after) and every transaction must commit within the delay of setting it. Change: `sequence` is the timestamp
 * in microseconds (higher for every later version of a row, so a key's events stay in order), `index` the id
 * (so (sequence, index), and the event ids derived from them, name one row version, the same when read again
 * after a restart), `commitTime` the timestamp. Polling a read replica, the delay must also cover its
 * replication lag.
 *
 * A timestamp-only mode is not offered: without a unique tie-break, rows sharing a timestamp have no stable
 * order (a batch limit cutting them could skip or repeat rows) and no stable identity for event ids.
 *
 * Neither mode can see hard deletes (use soft deletes, or log-based CDC), intermediate versions of a row
 * updated several times between two polls (only the latest is read), or updates that do not change the
 * timestamp; and every change waits up to the safety delay (timestamp mode: always at least that long).
 *
 * The acknowledged cursor is saved in the `positions` store; a restart resumes after it, re-reading (never
 * skipping) what was handed over but not acknowledged. Gaps are timed again after a restart. One process at a
 * time reads a source: it holds a lock named after the source in the database (`PolledTable.lock`), and a
 * second process's `read` fails with a retryable `SLUICE_SOURCE_BUSY` until the first stops or dies.
 */
export class QueryChangeSource implements ChangeSource {
  readonly name: string;
  readonly #o: ResolvedQueryChangeSourceOptions;
  readonly #timestamped: boolean;
  #starting: Promise<void> | undefined;
  /** The last row handed over (or gap passed); undefined before the first row. */
  #cursor: QueryCursor | undefined;
  readonly #gaps = new GapObservations();
  /** Changes handed over and not yet acknowledged: their positions and commit times, for `stats`. */
  #outstanding: { readonly position: string; readonly commitTime: number }[] = [];
  /** The reading lock, taken at the first read and again after its session was lost. */
  #lock: PolledTableLock | undefined;
  #closed = false;

  constructor(options: QueryChangeSourceOptions) {
    this.#o = resolveQueryChangeSourceOptions(options);
    this.name = this.#o.name;
    this.#timestamped = this.#o.table.mode === 'timestamp+incrementing';
  }

  async read(limit: number, maxWaitMs: number, signal?: AbortSignal): Promise<RowChange[]> {
    if (this.#closed) throw new ClosedError(this.name);
    await this.#start();
    await this.#claim();
    const deadline = Date.now() + maxWaitMs;
    for (;;) {
      const poll = this.#timestamped ? await this.#pollTimestamp(limit) : await this.#pollIncrementing(limit);
      if (poll.changes.length > 0) {
        for (const c of poll.changes)
          this.#outstanding.push({ position: c.position, commitTime: c.commitTime });
        return poll.changes;
      }
      const left = deadline - Date.now();
      if (left <= 0 || signal?.aborted || this.#closed) return [];
      const wait = Math.min(
        left,
        this.#o.pollIntervalMs,
        Math.max(10, poll.retryInMs ?? Number.POSITIVE_INFINITY),
      );
      await sleep(wait, signal);
    }
  }

  async acknowledge(position: string): Promise<void> {
    parseCursor(this.name, position, this.#timestamped);
    await this.#o.positions.save(this.name, position);
    const at = this.#outstanding.findIndex((c) => c.position === position);
    if (at >= 0) this.#outstanding = this.#outstanding.slice(at + 1);
  }

  async stats(): Promise<ChangeSourceStats> {
    const oldest = this.#outstanding[0]?.commitTime;
    return { lagBytes: null, lagMs: oldest === undefined ? null : Math.max(0, Date.now() - oldest) };
  }

  /** Stops reading; the table's pool and the position store belong to the caller. Idempotent. */
  /** The table's own checks (it exists, with the columns polled); none when its dialect offers none. */
  async preflight(): Promise<readonly PreflightCheck[]> {
    return (await this.#o.table.preflight?.()) ?? [];
  }

  async close(): Promise<void> {
    this.#closed = true;
    const lock = this.#lock;
    this.#lock = undefined;
    await lock?.release();
  }

  /** Holds the reading lock (one process at a time), or fails with a retryable error while another holds it. */
  async #claim(): Promise<void> {
    if (this.#lock !== undefined && !this.#lock.lost()) return;
    await this.#lock?.release();
    this.#lock = await this.#o.table.lock(this.name);
    if (this.#lock === undefined) {
      throw new SluiceError(
        'SLUICE_SOURCE_BUSY',
        `${this.name} is being read by another process; this one tries again until that one stops (one reader at a time)`,
      );
    }
    if (this.#closed) {
      await this.close(); // closed while the lock was being taken: give it back
      throw new ClosedError(this.name);
    }
  }

  #start(): Promise<void> {
    this.#starting ??= (async () => {
      const stored = await this.#o.positions.load(this.name);
      this.#cursor = stored === undefined ? undefined : parseCursor(this.name, stored, this.#timestamped);
    })().catch((error: unknown) => {
      this.#starting = undefined;
      throw error;
    });
    return this.#starting;
  }

  async #pollIncrementing(limit: number): Promise<Poll> {
    const { table, contiguousIds } = this.#o;
    const rows = await table.fetch({ after: this.#cursor, upTo: undefined, limit });
    if (rows.length === 0) return { changes: [] };
    const now = await table.databaseNow(); // after the fetch: a gap is timed from no earlier than it was seen
    this.#check(rows, undefined);
    this.#gaps.observe(rows[rows.length - 1]!.id, now);
    const delay = this.#o.safetyDelayMs * 1000;
    const changes: RowChange[] = [];
    let expected = (this.#cursor?.id ?? 0) + 1;
    let retryInMs: number | undefined;
    for (const r of rows) {
      // A missing id below this row (or, without contiguous ids, any row) waits until it is old enough.
      if (!contiguousIds || r.id !== expected) {
        const waited = now - (this.#gaps.firstSeen(r.id) ?? now);
        if (waited < delay) {
          retryInMs = Math.ceil((delay - waited) / 1000);
          break;
        }
      }
      changes.push(this.#change(r, Math.floor(now / 1000)));
      expected = r.id + 1;
    }
    if (changes.length > 0) {
      this.#cursor = { id: expected - 1 };
      this.#gaps.forgetUpTo(expected - 1);
    }
    return retryInMs === undefined ? { changes } : { changes, retryInMs };
  }

  async #pollTimestamp(limit: number): Promise<Poll> {
    const { table } = this.#o;
    const upTo = (await table.databaseNow()) - this.#o.safetyDelayMs * 1000;
    const rows = await table.fetch({ after: this.#cursor, upTo, limit });
    this.#check(rows, upTo);
    const changes = rows.map((r) => this.#change(r, Math.floor(r.timestamp! / 1000)));
    const last = rows[rows.length - 1];
    if (last !== undefined) this.#cursor = { timestamp: last.timestamp!, id: last.id };
    return { changes };
  }

  /** Rows must come in the mode's order after the cursor, with usable ids and timestamps: else stop, never guess. */
  #check(rows: readonly PolledRow[], upTo: number | undefined): void {
    let previous = this.#cursor;
    for (const r of rows) {
      const ts = r.timestamp;
      let problem: string | undefined;
      if (!Number.isSafeInteger(r.id) || r.id < 1) problem = 'its id is not a positive safe integer';
      else if (this.#timestamped && (ts === undefined || !Number.isSafeInteger(ts) || ts < 1)) {
        problem = 'its timestamp is not after 1970 (or not a whole number of microseconds)';
      } else if (upTo !== undefined && ts! > upTo)
        problem = 'its timestamp is later than the fetch asked for';
      else if (previous !== undefined && !after(r, previous, this.#timestamped)) {
        problem = `it does not come after ${formatCursor(previous)} in the mode's order`;
      }
      if (problem !== undefined) {
        throw new SluiceError(
          'SLUICE_QUERY_ROW_INVALID',
          `${this.name}: the row ${JSON.stringify({ id: r.id, timestamp: r.timestamp })} of ${this.#o.table.schema}.${this.#o.table.table} cannot be handed over: ${problem}. Query-based sources need positive integer ids, unique and (incrementing mode) increasing, and timestamps after 1970; change the table's columns or the source's mode`,
        );
      }
      previous = { id: r.id, ...(this.#timestamped ? { timestamp: ts! } : {}) };
    }
  }

  #change(r: PolledRow, commitTime: number): RowChange {
    const { schema, table } = this.#o.table;
    const base = { schema, table, before: undefined, after: r.row, commitTime };
    if (!this.#timestamped) {
      const position = formatCursor({ id: r.id });
      return {
        ...base,
        operation: 'insert',
        transactionId: String(r.id),
        position,
        sequence: r.id,
        index: 0,
      };
    }
    const timestamp = r.timestamp!;
    return {
      ...base,
      operation: 'update',
      transactionId: `${r.id}@${timestampTextFromMicros(timestamp)}`,
      position: formatCursor({ timestamp, id: r.id }),
      sequence: timestamp,
      index: r.id,
    };
  }
}

/** Whether `r` comes strictly after `cursor`: by id, or by (timestamp, id). */
function after(r: PolledRow, cursor: QueryCursor, timestamped: boolean): boolean {
  if (!timestamped) return r.id > cursor.id;
  const ts = r.timestamp!;
  const cts = cursor.timestamp!;
  return ts > cts || (ts === cts && r.id > cursor.id);
}

/** A query-based change source: `createChangeOutbox({ source: createQueryChangeSource({ table, positions }), map, … })`. */
export function createQueryChangeSource(options: QueryChangeSourceOptions): QueryChangeSource {
  return new QueryChangeSource(options);
}
