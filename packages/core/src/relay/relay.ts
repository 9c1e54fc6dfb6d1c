import { errorCode, errorMessage } from '../errors.js';
import type { OutboxRow, OutboxStats } from '../outbox/outbox-store.js';
import { startSendSpan } from '../tracing/send-span.js';
import { inSpan, recordFailure } from '../tracing/span-scope.js';
import type { OutgoingRecord } from '../transport/records.js';
import { backoffDelay } from '../util/backoff.js';
import { isPermanent, retrying } from '../util/retrying.js';
import { sleep } from '../util/sleep.js';
import { HeldKeys } from './held-keys.js';
import { type RelayOptions, type ResolvedRelayOptions, resolveRelayOptions } from './relay-options.js';

export interface RelayStats {
  readonly owner: string;
  /** Whether this instance holds any of the relay lease (only holders publish). */
  readonly leader: boolean;
  /** The key-hash partitions this instance publishes (of `partitionCount`). */
  readonly partitions: readonly number[];
  readonly partitionCount: number;
  readonly published: number;
  readonly batches: number;
  /** Consecutive failed publishes of the current batch (transport down). */
  readonly failingSince: number | null;
  readonly lastError: { code: string; message: string } | null;
  /** Keys held back after the transport refused one of their events for good. */
  readonly heldKeys: readonly { topic: string; key: string; rows: number; attempts: number; error: string }[];
  readonly outbox: OutboxStats;
}

/**
 * Ships committed outbox rows to a transport: in batches, at least once, strictly in order per key. Acknowledged
 * rows are deleted from the outbox only after the transport confirmed them, so a crash at any point re-sends
 * rather than loses. One instance at a time publishes a given key: a lease in the outbox's database, on the whole
 * outbox or on each key-hash partition, so that several instances split the keys. An instance that dies loses
 * its partitions when their lease expires, and the others take them over and go on in order.
 */
export class Relay {
  readonly #o: ResolvedRelayOptions;
  readonly #held = new HeldKeys();
  readonly #abort = new AbortController();
  #running: Promise<void> | undefined;
  #partitions: readonly number[] = [];
  #partitionCount = 1;
  #leaseRenewedAt = 0;
  #cursor: string | undefined;
  /** Published rows not yet acknowledged in the outbox. */
  #unacked: OutboxRow[] = [];
  /** The acknowledgement running in the background, if any. */
  #acking: Promise<void> | undefined;
  #ackedAt = 0;
  #published = 0;
  #batches = 0;
  #failures = 0;
  #failingSince: number | null = null;
  #lastError: { code: string; message: string } | null = null;

  constructor(options: RelayOptions) {
    this.#o = resolveRelayOptions(options);
  }

  /** Starts the relay loop in the background. Idempotent. */
  start(): this {
    this.#running ??= this.#run().catch((error: unknown) => {
      this.#o.logger.error('relay stopped on an unexpected error', {
        code: errorCode(error),
        error: errorMessage(error),
      });
      throw error;
    });
    return this;
  }

  /** Resolves when the loop ends (after `stop()`), rejects if it died. */
  get done(): Promise<void> {
    return this.#running ?? Promise.resolve();
  }

  /** Finishes the batch in flight, releases the lease and stops. */
  async stop(): Promise<void> {
    this.#abort.abort();
    try {
      await this.#running;
    } finally {
      if (this.#partitions.length > 0) {
        await this.#o.outbox.releaseLease(this.#o.owner).catch(() => undefined);
      }
      this.#partitions = [];
    }
  }

  async stats(): Promise<RelayStats> {
    return {
      owner: this.#o.owner,
      leader: this.#partitions.length > 0,
      partitions: this.#partitions,
      partitionCount: this.#partitionCount,
      published: this.#published,
      batches: this.#batches,
      failingSince: this.#failingSince,
      lastError: this.#lastError,
      heldKeys: this.#held.list().map((h) => ({
        topic: h.topic,
        key: h.key,
        rows: h.rows.length,
        attempts: h.attempts,
        error: `${h.lastError.code}: ${h.lastError.message}`,
      })),
      outbox: await this.#o.outbox.stats(),
    };
  }

  async #run(): Promise<void> {
    const { transport } = this.#o;
    const signal = this.#abort.signal;
    // A broker that is briefly away at start (restarting, electing a leader, loading its data) is waited for;
    // a permanent refusal (a topic declared with another kind or partition count) stops the relay with it.
    for (const topic of this.#o.topics) {
      try {
        await retrying(
          () => transport.ensureTopic(topic),
          this.#o.backoff,
          signal,
          (error, attempt, delayMs) =>
            this.#o.logger.warn('creating a topic failed; retrying', {
              topic: topic.name,
              code: errorCode(error),
              error: errorMessage(error),
              attempt,
              delayMs,
            }),
        );
      } catch (error) {
        if (signal.aborted) return;
        throw error;
      }
    }
    try {
      await this.#loop(signal);
    } finally {
      await this.#flushAcks(true);
    }
  }

  async #loop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.#step(signal);
      } catch (error) {
        // A store that says retrying cannot help (a missing migration) stops the relay with its message;
        // anything else (a dropped connection, a busy database) is retried after a backoff.
        if (isPermanent(error)) throw error;
        await this.#backoff(error, signal);
      }
    }
  }

  /** One round: hold the lease, retry held keys, read a batch and publish it (or wait for appends). */
  async #step(signal: AbortSignal): Promise<void> {
    const { outbox, logger } = this.#o;
    if (!(await this.#holdLease())) {
      await this.#flushAcks(true); // rows this instance published before it lost the lease
      await sleep(this.#o.leaseTtlMs / 3, signal);
      return;
    }
    await this.#retryHeldKeys();
    const batch =
      this.#held.rowCount >= this.#o.maxHeldRows
        ? { rows: [], cursor: this.#cursor }
        : await outbox.readPending(this.#cursor, this.#o.batchSize, this.#partitions);
    const rows = batch.rows;
    if (rows.length === 0) {
      this.#cursor = batch.cursor;
      await this.#flushAcks(true);
      const nextHeld = this.#held.nextAttemptAt();
      const wait =
        nextHeld === undefined
          ? this.#o.idleWaitMs
          : Math.max(0, Math.min(this.#o.idleWaitMs, nextHeld - Date.now()));
      await outbox.waitForAppend(Math.min(wait, this.#o.leaseTtlMs / 3), signal);
      return;
    }
    const ready: OutboxRow[] = [];
    for (const row of rows) {
      if (this.#held.has(row)) this.#held.add(row);
      else ready.push(row);
    }
    try {
      await this.#publish(ready);
      this.#cursor = batch.cursor;
      this.#succeeded();
      await this.#flushAcks(false);
    } catch (error) {
      if (!isPermanent(error)) {
        // The transport is down or overloaded: nothing after the failure was acknowledged. Re-read the same
        // rows after a backoff (rows acknowledged before the failure may be sent twice; consumers de-duplicate).
        await this.#backoff(error, signal);
        return;
      }
      logger.warn('transport refused a batch; isolating the refused events', { code: errorCode(error) });
      if (await this.#isolate(ready)) this.#cursor = batch.cursor;
    }
  }

  /**
   * Publishes rows, in a span `"<topic> send"` linked to the rows' append spans (see `startSendSpan`); they are
   * acknowledged in the outbox by the next `#flushAcks`.
   */
  async #publish(rows: readonly OutboxRow[]): Promise<void> {
    if (rows.length === 0) return;
    const span = startSendSpan(rows);
    const started = performance.now();
    try {
      await inSpan(span, () => this.#o.transport.publish(rows.map(toRecord)));
    } catch (error) {
      recordFailure(span, error);
      throw error;
    } finally {
      span?.end();
    }
    this.#o.onPublished?.(rows.length, performance.now() - started);
    for (const row of rows) this.#unacked.push(row);
    this.#published += rows.length;
    this.#batches++;
  }

  /**
   * Acknowledges published rows in the outbox: when `force`d (idle, stopping, renewing the lease: waits for
   * every acknowledgement), or once `ackIntervalMs` has passed or a batch's worth is waiting (in the background,
   * so the next batch is read and published meanwhile; one acknowledgement at a time). A failed acknowledgement
   * (the database busy) is retried later; the rows stay past the relay's cursor, so they are not sent again
   * unless the relay restarts.
   */
  async #flushAcks(force: boolean): Promise<void> {
    if (force) {
      await this.#acking;
      if (this.#unacked.length > 0) await this.#ack();
      return;
    }
    if (this.#unacked.length === 0) return;
    const due =
      Date.now() - this.#ackedAt >= this.#o.ackIntervalMs || this.#unacked.length >= this.#o.batchSize;
    if (!due) return;
    // Never more than one acknowledgement in flight, nor too many rows waiting for it.
    if (this.#acking !== undefined) {
      if (this.#unacked.length < 4 * this.#o.batchSize) return;
      await this.#acking;
    }
    this.#acking = this.#ack().finally(() => {
      this.#acking = undefined;
    });
  }

  async #ack(): Promise<void> {
    const rows = this.#unacked;
    this.#unacked = [];
    try {
      await this.#o.outbox.acknowledge(rows);
      this.#ackedAt = Date.now();
    } catch (error) {
      this.#unacked = rows.concat(this.#unacked);
      this.#o.logger.debug('acknowledging delivered rows failed; will retry', { code: errorCode(error) });
    }
  }

  /**
   * Publishes rows one by one after the transport refused a batch for good. A refused row's key is held back
   * with every later row of that key; other keys go on. Returns false if a transient failure interrupted.
   */
  async #isolate(rows: readonly OutboxRow[]): Promise<boolean> {
    for (const row of rows) {
      if (this.#held.has(row)) {
        this.#held.add(row);
        continue;
      }
      try {
        await this.#publish([row]);
      } catch (error) {
        if (!isPermanent(error)) {
          await this.#backoff(error, this.#abort.signal);
          return false;
        }
        const err = { code: errorCode(error), message: errorMessage(error) };
        this.#lastError = err;
        this.#o.logger.error('holding back a key: the transport refused its event', {
          topic: row.topic,
          key: row.key,
          id: row.id,
          ...err,
        });
        this.#held.add(row, err, Date.now() + backoffDelay(this.#o.backoff, 1));
      }
    }
    this.#succeeded();
    return true;
  }

  /** Tries again, in order, the rows of held keys whose backoff has passed. */
  async #retryHeldKeys(): Promise<void> {
    for (const held of this.#held.due(Date.now())) {
      let sent = 0;
      try {
        for (const row of held.rows) {
          await this.#publish([row]);
          sent++;
        }
        this.#held.shift(held, sent);
        this.#o.logger.info('released a held key', { topic: held.topic, key: held.key });
      } catch (error) {
        this.#held.shift(held, sent);
        held.attempts++;
        held.lastError = { code: errorCode(error), message: errorMessage(error) };
        held.nextAttemptAt = Date.now() + backoffDelay(this.#o.backoff, held.attempts);
      }
    }
  }

  /**
   * Renews the lease once a third of its lifetime has passed (so a batch never starts on a lease about to
   * expire), and returns whether this instance holds any partition. Published rows are acknowledged before
   * renewing, so partitions handed to another instance carry as few already-published rows as possible.
   */
  async #holdLease(): Promise<boolean> {
    const now = Date.now();
    if (this.#partitions.length > 0 && now - this.#leaseRenewedAt < this.#o.leaseTtlMs / 3) return true;
    await this.#flushAcks(true);
    const lease = await this.#o.outbox.acquireLease(this.#o.owner, this.#o.leaseTtlMs);
    const before = this.#partitions;
    const after = lease.partitions;
    this.#partitionCount = lease.partitionCount;
    if (!samePartitions(before, after)) {
      const { owner } = this.#o;
      if (after.length === 0) this.#o.logger.warn('relay lease lost; standing by', { owner });
      else {
        this.#o.logger.info('relay lease: partitions changed', {
          owner,
          partitions: after.join(','),
          of: lease.partitionCount,
        });
      }
      // Different keys now: start again from the first unacknowledged row of the partitions held.
      this.#cursor = undefined;
      this.#held.clear();
      this.#partitions = after;
    }
    if (after.length > 0) this.#leaseRenewedAt = now;
    return after.length > 0;
  }

  #succeeded(): void {
    this.#failures = 0;
    this.#failingSince = null;
  }

  async #backoff(error: unknown, signal: AbortSignal): Promise<void> {
    this.#failures++;
    this.#failingSince ??= Date.now();
    this.#lastError = { code: errorCode(error), message: errorMessage(error) };
    const delay = backoffDelay(this.#o.backoff, this.#failures);
    this.#o.logger.warn('publish failed; retrying', {
      ...this.#lastError,
      attempt: this.#failures,
      delayMs: delay,
    });
    await sleep(delay, signal);
  }
}

function samePartitions(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((p, i) => p === b[i]);
}

function toRecord(row: OutboxRow): OutgoingRecord {
  return { topic: row.topic, key: row.key, value: row.value, id: row.id };
}

/** Creates a relay; call `start()` to run it. */
export function createRelay(options: RelayOptions): Relay {
  return new Relay(options);
}
