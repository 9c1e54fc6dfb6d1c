import { Consumer, type GroupAssignment } from '@platformatic/kafka';
import {
  ClosedError,
  type ConsumedRecord,
  type PollOptions,
  type SeekTarget,
  type Subscription,
  type TopicPartition,
} from '@sluice/core';
import type { KafkaAdminApi } from './kafka-admin-api.js';
import { kafkaError, parseOffset, unknownTopicError } from './kafka-errors.js';
import { apiCodeOf, clientOptions } from './kafka-js-client.js';
import { KafkaJsFetcher, partitionKey } from './kafka-js-fetch.js';
import type { ResolvedKafkaOptions } from './kafka-options.js';
import { deliverable } from './kafka-records.js';
import type { KafkaTopic } from './kafka-topics.js';

/** The longest one Fetch waits for a first record, so a close is noticed this soon. */
const FETCH_WAIT_MS = 500;
/** Records fetched ahead of `poll` at most (a prefetch starts only below this). */
const PREFETCH_RECORDS = 5_000;
const OFFSET_OUT_OF_RANGE = 1;

/** What a subscription is: a group member, or an ephemeral reader of every partition. */
export interface KafkaJsSubscribeSpec {
  readonly group: string;
  readonly ephemeral: boolean;
  readonly startFrom: 'earliest' | 'latest';
  /** Close without LeaveGroup (`staticMembership`): the partitions move after the session timeout. */
  readonly staysOnClose: boolean;
}

/**
 * One member of a consumer group (or an ephemeral reader) on a `@platformatic/kafka` `Consumer`.
 *
 * Group members use Kafka's group membership (classic protocol; the client's heartbeats run on timers and it
 * rejoins when a heartbeat reports a rebalance). On each join the subscription starts the partitions new to
 * it at the group's committed offset (else `startFrom`), keeps the position of those it kept, and drops what
 * it had fetched of those it lost. `poll` sends Fetch requests itself (at most {@link FETCH_WAIT_MS} each) and
 * fetches ahead once while the caller works, up to {@link PREFETCH_RECORDS}. `commit` stores offset + 1 of
 * the latest given record of each assigned partition, never moving back. An ephemeral reader assigns every
 * partition itself, joins no group and commits nothing.
 */
export class KafkaJsSubscription implements Subscription {
  readonly #consumer: Consumer;
  readonly #fetcher: KafkaJsFetcher;
  readonly #byName: ReadonlyMap<string, KafkaTopic>;
  readonly #byKafkaName: ReadonlyMap<string, KafkaTopic>;
  readonly #admin: KafkaAdminApi;
  readonly #spec: KafkaJsSubscribeSpec;
  readonly #onClose: (sub: KafkaJsSubscription) => void;
  readonly #committed = new Map<string, number>();
  #buffer: ConsumedRecord[] = [];
  /** When the last fetch added to the buffer (ms since the epoch). */
  #bufferedAt = 0;
  #fetching: Promise<void> | undefined;
  #fetchError: unknown;
  #assignment: TopicPartition[] = [];
  /** Runs assignment changes one at a time. */
  #assigning: Promise<void> = Promise.resolve();
  #closed = false;
  #closing: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  private constructor(
    consumer: Consumer,
    topics: readonly KafkaTopic[],
    admin: KafkaAdminApi,
    spec: KafkaJsSubscribeSpec,
    onClose: (sub: KafkaJsSubscription) => void,
  ) {
    this.#consumer = consumer;
    this.#fetcher = new KafkaJsFetcher(consumer, topics);
    this.#byName = new Map(topics.map((t) => [t.name, t]));
    this.#byKafkaName = new Map(topics.map((t) => [t.kafkaName, t]));
    this.#admin = admin;
    this.#spec = spec;
    this.#onClose = onClose;
  }

  static async open(
    options: ResolvedKafkaOptions,
    topics: readonly KafkaTopic[],
    admin: KafkaAdminApi,
    spec: KafkaJsSubscribeSpec,
    onClose: (sub: KafkaJsSubscription) => void,
  ): Promise<KafkaJsSubscription> {
    const consumer = new Consumer({
      ...clientOptions(options),
      groupId: spec.group,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs,
      rebalanceTimeout: Math.max(options.sessionTimeoutMs, 30_000),
    });
    const sub = new KafkaJsSubscription(consumer, topics, admin, spec, onClose);
    try {
      for (const topic of topics) consumer.topics.track(topic.kafkaName);
      if (spec.ephemeral) {
        await sub.#assign(topics.map((t) => ({ topic: t.kafkaName, partitions: range(t.partitions) })));
      } else {
        consumer.on('consumer:group:join', ({ assignments }) => {
          sub.#assigning = sub.#assigning.then(() => sub.#assignUntilDone(assignments ?? []));
        });
        // A broker that just started answers COORDINATOR_NOT_AVAILABLE until its offsets topic exists: the
        // first join is retried for a while (librdkafka joins in the background and retries forever).
        const deadline = Date.now() + Math.max(options.requestTimeoutMs, 30_000);
        for (let delay = 100; ; delay = Math.min(delay * 2, 1000)) {
          try {
            await consumer.joinGroup({
              sessionTimeout: options.sessionTimeoutMs,
              heartbeatInterval: options.heartbeatIntervalMs,
              rebalanceTimeout: Math.max(options.sessionTimeoutMs, 30_000),
            });
            break;
          } catch (error) {
            if (Date.now() + delay > deadline) throw error;
            await new Promise((resolve) => setTimeout(resolve, delay));
          }
        }
        await sub.#assigning;
      }
    } catch (error) {
      await consumer.close().catch(() => undefined);
      throw error;
    }
    return sub;
  }

  async poll(options: PollOptions): Promise<ConsumedRecord[]> {
    if (this.#closed) throw new ClosedError('kafka subscription');
    const pollStart = Date.now();
    const deadline = pollStart + Math.max(0, options.maxWaitMs);
    const max = Math.max(1, Math.floor(options.maxRecords));
    const abort = () => this.#wake?.();
    options.signal?.addEventListener('abort', abort);
    try {
      for (;;) {
        if (this.#closed || options.signal?.aborted) return [];
        await this.#assigning;
        if (this.#buffer.length > 0) {
          // Entity records fetched before this poll (by a fetch an earlier poll left running) may have been
          // replaced since: fetch what came after them first, so that only each key's latest is delivered.
          if (this.#bufferedAt < pollStart && this.#holdsEntityRecords()) {
            await this.#startFetch(0);
            if (this.#bufferedAt < pollStart) await this.#startFetch(0);
          }
          const records = deliverable(this.#buffer.splice(0, max), this.#byName, Date.now());
          // A prefetch in the background: it catches its own failure (kept for the next poll in #fetchError).
          if (this.#buffer.length < PREFETCH_RECORDS) void this.#startFetch(FETCH_WAIT_MS);
          if (records.length > 0) return records;
          continue;
        }
        if (this.#fetchError !== undefined) {
          const error = this.#fetchError;
          this.#fetchError = undefined;
          throw kafkaError('poll', error);
        }
        const left = deadline - Date.now();
        const fetching = this.#startFetch(Math.min(Math.max(left, 0), FETCH_WAIT_MS));
        const woke = new Promise<void>((resolve) => {
          this.#wake = resolve;
          setTimeout(resolve, Math.max(left, 0)).unref();
        });
        await Promise.race([fetching, woke]);
        if (this.#buffer.length === 0 && this.#fetchError === undefined && Date.now() >= deadline) return [];
      }
    } finally {
      options.signal?.removeEventListener('abort', abort);
    }
  }

  async commit(records: readonly ConsumedRecord[]): Promise<void> {
    if (this.#closed) throw new ClosedError('kafka subscription');
    if (this.#spec.ephemeral || records.length === 0) return;
    const next = new Map<string, { topic: string; partition: number; offset: number }>();
    for (const r of records) {
      const topic = this.#byName.get(r.topic);
      if (topic === undefined) continue;
      const key = partitionKey(topic.kafkaName, r.partition);
      if (!this.#fetcher.positions.has(key)) continue;
      const offset = parseOffset(r.offset) + 1;
      if (offset <= (this.#committed.get(key) ?? -1) || offset <= (next.get(key)?.offset ?? -1)) continue;
      next.set(key, { topic: topic.kafkaName, partition: r.partition, offset });
    }
    if (next.size === 0) return;
    try {
      await this.#consumer.commit({
        offsets: [...next.values()].map((o) => ({ ...o, offset: BigInt(o.offset), leaderEpoch: -1 })),
      });
    } catch (error) {
      throw kafkaError('commit', error);
    }
    for (const [key, tp] of next)
      this.#committed.set(key, Math.max(tp.offset, this.#committed.get(key) ?? -1));
  }

  assignment(): readonly TopicPartition[] {
    return this.#assignment;
  }

  async seek(topic: string, target: SeekTarget): Promise<void> {
    if (this.#closed) throw new ClosedError('kafka subscription');
    const info = this.#byName.get(topic);
    if (info === undefined) throw unknownTopicError(topic);
    await this.#assigning;
    const mine = this.#assignment.filter((a) => a.topic === topic).map((a) => a.partition);
    let offsets: Map<number, number>;
    if (target.to === 'offset') {
      offsets = new Map(
        mine.includes(target.partition) ? [[target.partition, parseOffset(target.offset)]] : [],
      );
    } else {
      const query = target.to === 'time' ? { time: target.time } : target.to;
      offsets =
        mine.length === 0
          ? new Map()
          : await this.#admin.offsets(info.kafkaName, mine, query).catch((error) => {
              throw kafkaError(`seek of ${topic}`, error);
            });
    }
    for (const [partition, offset] of offsets) this.#move(info.kafkaName, partition, offset);
  }

  /** Stops: a waiting poll returns `[]`; a group member leaves its group (unless it stays on close). */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closed = true;
    this.#wake?.();
    this.#closing = (async () => {
      if (this.#spec.staysOnClose) {
        // The LeaveGroup names a member the coordinator does not know (the client takes UNKNOWN_MEMBER_ID as
        // left), so this member just stops heartbeating, as after a crash.
        const consumer = this.#consumer as unknown as { memberId: string | null };
        if (consumer.memberId) consumer.memberId = `${consumer.memberId}-gone`;
      }
      await this.#consumer.close().catch(() => undefined);
      this.#onClose(this);
    })();
    return this.#closing;
  }

  /** Moves a partition's position, dropping what was fetched of it. */
  #move(kafkaName: string, partition: number, offset: number): void {
    const topic = this.#byKafkaName.get(kafkaName);
    this.#buffer = this.#buffer.filter((r) => r.topic !== topic?.name || r.partition !== partition);
    this.#fetcher.positions.set(partitionKey(kafkaName, partition), offset);
  }

  /** {@link #assign}, retried until it succeeds or the subscription closes (the broker may be restarting). */
  async #assignUntilDone(assignments: readonly GroupAssignment[]): Promise<void> {
    for (let delay = 100; !this.#closed; delay = Math.min(delay * 2, 1000)) {
      try {
        await this.#assign(assignments);
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  /** Applies a new assignment: new partitions start at the committed offset (else `startFrom`). */
  async #assign(assignments: readonly GroupAssignment[]): Promise<void> {
    const wanted = new Set<string>();
    for (const a of assignments) {
      if (!this.#byKafkaName.has(a.topic)) continue;
      for (const p of a.partitions) wanted.add(partitionKey(a.topic, p));
    }
    for (const key of [...this.#fetcher.positions.keys()]) {
      if (wanted.has(key)) continue;
      this.#fetcher.positions.delete(key);
      this.#committed.delete(key);
    }
    const kept = new Set(this.#fetcher.positions.keys());
    this.#buffer = this.#buffer.filter((r) =>
      kept.has(partitionKey(this.#byName.get(r.topic)!.kafkaName, r.partition)),
    );
    for (const a of assignments) {
      const topic = this.#byKafkaName.get(a.topic);
      if (topic === undefined) continue;
      const added = a.partitions.filter((p) => !kept.has(partitionKey(a.topic, p)));
      if (added.length === 0) continue;
      const committed = this.#spec.ephemeral
        ? new Map<number, number>()
        : await this.#committedOffsets(a.topic, added);
      const missing = added.filter((p) => !committed.has(p));
      const fallback =
        missing.length === 0
          ? new Map<number, number>()
          : await this.#admin.offsets(a.topic, missing, this.#spec.startFrom);
      for (const p of added) {
        const offset = committed.get(p) ?? fallback.get(p) ?? 0;
        this.#fetcher.positions.set(partitionKey(a.topic, p), offset);
        if (committed.has(p)) this.#committed.set(partitionKey(a.topic, p), offset);
      }
    }
    this.#assignment = [...this.#fetcher.positions.keys()].map((key) => {
      const at = key.indexOf('\u0000');
      return { topic: this.#byKafkaName.get(key.slice(0, at))!.name, partition: Number(key.slice(at + 1)) };
    });
  }

  async #committedOffsets(kafkaName: string, partitions: number[]): Promise<Map<number, number>> {
    const listed = await this.#consumer.listCommittedOffsets({ topics: [{ topic: kafkaName, partitions }] });
    const all = listed.get(kafkaName) ?? [];
    const out = new Map<number, number>();
    for (const p of partitions) {
      const offset = all[p];
      if (offset !== undefined && offset >= 0n) out.set(p, Number(offset));
    }
    return out;
  }

  #holdsEntityRecords(): boolean {
    return this.#buffer.some((r) => this.#byName.get(r.topic)?.kind === 'entity');
  }

  /** Starts a Fetch unless one is out; resolves when the one out ends. */
  #startFetch(waitMs: number): Promise<void> {
    if (this.#fetching !== undefined || this.#closed) return this.#fetching ?? Promise.resolve();
    this.#fetching = (async () => {
      try {
        await this.#assigning;
        const records = await this.#fetcher.fetch(waitMs);
        if (!this.#closed) {
          this.#buffer.push(...records);
          this.#bufferedAt = Date.now();
        }
      } catch (error) {
        if (this.#closed) return;
        if (apiCodeOf(error) === OFFSET_OUT_OF_RANGE) await this.#repair().catch(() => undefined);
        else {
          this.#consumer.clearMetadata();
          this.#fetchError = error;
        }
      } finally {
        this.#fetching = undefined;
      }
    })();
    return this.#fetching;
  }

  /** After OFFSET_OUT_OF_RANGE (records deleted by retention): positions outside the log move to its ends. */
  async #repair(): Promise<void> {
    for (const topic of this.#byKafkaName.values()) {
      const partitions = [...this.#fetcher.positions.keys()]
        .filter((k) => k.startsWith(`${topic.kafkaName}\u0000`))
        .map((k) => Number(k.slice(k.indexOf('\u0000') + 1)));
      if (partitions.length === 0) continue;
      const starts = await this.#admin.offsets(topic.kafkaName, partitions, 'earliest');
      const ends = await this.#admin.offsets(topic.kafkaName, partitions, 'latest');
      for (const p of partitions) {
        const key = partitionKey(topic.kafkaName, p);
        const at = this.#fetcher.positions.get(key) ?? 0;
        if (at < (starts.get(p) ?? 0)) this.#move(topic.kafkaName, p, starts.get(p) ?? 0);
        else if (at > (ends.get(p) ?? 0)) this.#move(topic.kafkaName, p, ends.get(p) ?? 0);
      }
    }
  }
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
