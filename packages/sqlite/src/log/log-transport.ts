import {
  ClosedError,
  type ConsumedRecord,
  InvalidOptionError,
  type OutgoingRecord,
  type PartitionLag,
  type PublishAck,
  type SeekTarget,
  type SubscribeOptions,
  type Subscription,
  type TopicSpec,
  type Transport,
} from '@sluice/core';
import { mergeByTime } from '@sluice/core/adapter';
import { CommitWakeup, notifyCommitted } from '../commit-wakeup.js';
import { LOG_NAME } from './log-errors.js';
import { readLag } from './log-lag.js';
import { type LogTransportOptions, type ResolvedLogOptions, resolveLogOptions } from './log-options.js';
import { publishRecords } from './log-publish.js';
import { LogStore } from './log-store.js';
import { LogSubscription } from './log-subscription.js';
import { type SweepResult, sweepLog } from './log-sweep.js';

/**
 * The embedded log: topics, records, consumer groups and committed offsets in one SQLite file (WAL mode,
 * `synchronous = FULL`, so an acknowledged publish survives a crash or power loss). Several processes may open
 * the same file; they coordinate through it alone. Waiting polls wake at once for publishes in this process and
 * within `pollIntervalMs` for publishes by other processes.
 *
 * Calls run synchronously on the caller's thread (better-sqlite3); a write waits up to `busyTimeoutMs` for
 * another process's write lock.
 */
export class LogTransport implements Transport {
  readonly name = LOG_NAME;
  /** The options in force, defaults applied. */
  readonly options: ResolvedLogOptions;
  readonly #store: LogStore;
  readonly #wakeup: CommitWakeup;
  readonly #subscriptions = new Set<LogSubscription>();
  readonly #sweeper: NodeJS.Timeout;
  #closed = false;

  constructor(options: LogTransportOptions) {
    this.options = resolveLogOptions(options);
    this.#store = new LogStore(this.options);
    const dataVersion = this.#store.sql.dataVersion;
    this.#wakeup = new CommitWakeup(
      this.#store.file,
      () => dataVersion.get() ?? 0,
      this.options.pollIntervalMs,
    );
    this.#sweeper = setInterval(() => this.#sweepQuietly(), this.options.sweepIntervalMs);
    this.#sweeper.unref();
  }

  async ensureTopic(spec: TopicSpec): Promise<void> {
    this.#ensureOpen();
    this.#store.ensureTopic(spec);
  }

  async publish(records: readonly OutgoingRecord[]): Promise<PublishAck[]> {
    this.#ensureOpen();
    if (!Array.isArray(records)) throw new InvalidOptionError('publish', 'records', 'must be an array');
    const acks = publishRecords(this.#store, records);
    if (acks.length > 0) notifyCommitted(this.#store.file);
    return acks;
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.#ensureOpen();
    const subscription = new LogSubscription(this.#store, this.#wakeup, options, (s) =>
      this.#subscriptions.delete(s),
    );
    this.#subscriptions.add(subscription);
    try {
      return await subscription.start();
    } catch (error) {
      subscription.abandon();
      throw error;
    }
  }

  async resetOffsets(group: string, topic: string, target: SeekTarget): Promise<void> {
    this.#ensureOpen();
    if (typeof group !== 'string' || group === '') {
      throw new InvalidOptionError(
        'resetOffsets',
        'group',
        `must be a non-empty string, got ${JSON.stringify(group)}`,
      );
    }
    const meta = this.#store.topic(topic);
    const partitions = this.#store.partitionsOf(meta, target);
    const now = Date.now();
    this.#store.write(`resetOffsets(${group}, ${topic})`, () => {
      for (const p of partitions) {
        this.#store.sql.resetOffset.run(group, topic, p, this.#store.position(meta, p, target, now));
      }
    });
    notifyCommitted(this.#store.file);
  }

  async lag(group: string, topic: string): Promise<readonly PartitionLag[]> {
    this.#ensureOpen();
    return readLag(this.#store, group, topic, Date.now());
  }

  async read(topic: string, target: SeekTarget, limit: number): Promise<ConsumedRecord[]> {
    this.#ensureOpen();
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw new InvalidOptionError('read', 'limit', `must be an integer >= 0, got ${limit}`);
    }
    const meta = this.#store.topic(topic);
    const partitions = this.#store.partitionsOf(meta, target);
    const now = Date.now();
    if (limit === 0) return [];
    const lists = this.#store.read(`read(${topic})`, () =>
      partitions.map((p) => {
        const list: ConsumedRecord[] = [];
        this.#store.fetch(meta, p, this.#store.position(meta, p, target, now), limit, now, list);
        return list;
      }),
    );
    return mergeByTime(lists, limit);
  }

  /** Deletes expired records and tombstones now (it also runs every `sweepIntervalMs`). */
  sweep(): SweepResult {
    this.#ensureOpen();
    return sweepLog(this.#store, Date.now());
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweeper);
    const failures: unknown[] = [];
    for (const subscription of [...this.#subscriptions]) {
      await subscription.close().catch((error: unknown) => failures.push(error));
    }
    this.#wakeup.close();
    this.#store.close();
    if (failures.length > 0) throw failures[0];
  }

  /**
   * Drops the connection without leaving consumer groups, as if the process had been killed: members stop
   * heartbeating and time out after `sessionTimeoutMs`. For fault tests; use `close()` otherwise.
   */
  abandon(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweeper);
    for (const subscription of [...this.#subscriptions]) subscription.abandon();
    this.#wakeup.close();
    this.#store.close();
  }

  #ensureOpen(): void {
    if (this.#closed) throw new ClosedError(`${LOG_NAME} transport (${this.options.path})`);
  }

  #sweepQuietly(): void {
    if (this.#closed) return;
    try {
      sweepLog(this.#store, Date.now());
    } catch {
      // Busy or failing: the next sweep tries again; reads never return expired records meanwhile.
    }
  }
}

/** Opens (creating if needed) an embedded log transport on a SQLite file. */
export function createLogTransport(options: LogTransportOptions): LogTransport {
  return new LogTransport(options);
}
