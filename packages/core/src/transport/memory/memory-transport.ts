import { randomUUID } from 'node:crypto';
import type { TopicSpec } from '../../contracts/define-topic.js';
import { ClosedError, InvalidOptionError, PayloadTooLargeError, TransportError } from '../../errors.js';
import { partitionFor } from '../../partitioning/partition-for.js';
import { waitForWake } from '../../util/wait-for-wake.js';
import { checkPollOptions } from '../check-subscribe-options.js';
import { createGroupMember, type GroupMember } from '../groups/group-member.js';
import { MemoryMembershipStore } from '../groups/memory-membership-store.js';
import type { PartitionLag } from '../partition-lag.js';
import type {
  ConsumedRecord,
  OutgoingRecord,
  PollOptions,
  PublishAck,
  SeekTarget,
  SubscribeOptions,
  TopicPartition,
} from '../records.js';
import type { Subscription } from '../subscription.js';
import type { Transport } from '../transport.js';
import { DEFAULT_MESSAGE_RETENTION_MS, validateTopicSpec } from '../validate-topic-spec.js';
import {
  type Broker,
  DAY,
  EMPTY,
  groupOf,
  lagOf,
  NAME,
  partitionsOf,
  type Settings,
  type Topic,
  wakeAll,
} from './memory-broker.js';

/** Options of {@link createMemoryTransport}; all optional. */
export interface MemoryTransportOptions {
  /** Largest record accepted (value, key and headers, UTF-8 bytes). Default 1 MiB. */
  readonly maxPayloadBytes?: number;
  /** A member silent for this long is dead and its partitions move. Default 10000 ms. */
  readonly sessionTimeoutMs?: number;
  /** How long an `entity` tombstone is kept. Default 24 h. */
  readonly tombstoneRetentionMs?: number;
}

/**
 * An in-process transport with the embedded log's semantics (groups, assignment, commits, topic kinds, seek,
 * prompt wake-up), for unit tests of core logic only: nothing is durable. `connect()` opens another client on
 * the same broker, as a second process would.
 */
export class MemoryTransport implements Transport {
  readonly name = NAME;
  readonly #broker: Broker;
  readonly #settings: Settings;
  readonly #subscriptions = new Set<MemorySubscription>();
  #closed = false;

  constructor(options: MemoryTransportOptions = {}, broker?: Broker) {
    const positive = (field: keyof MemoryTransportOptions, fallback: number) => {
      const value = options[field] ?? fallback;
      if (!Number.isSafeInteger(value) || value < 1) {
        throw new InvalidOptionError(
          'createMemoryTransport',
          field,
          `must be a positive integer, got ${value}`,
        );
      }
      return value;
    };
    this.#settings = Object.freeze({
      maxPayloadBytes: positive('maxPayloadBytes', 1024 * 1024),
      sessionTimeoutMs: positive('sessionTimeoutMs', 10_000),
      tombstoneRetentionMs: positive('tombstoneRetentionMs', DAY),
    });
    this.#broker = broker ?? { topics: new Map(), groups: new Map(), waiters: new Set() };
  }

  /** Another client of the same broker, with its own options. */
  connect(options: MemoryTransportOptions = this.#settings): MemoryTransport {
    return new MemoryTransport(options, this.#broker);
  }

  async ensureTopic(spec: TopicSpec): Promise<void> {
    this.#open();
    validateTopicSpec(spec);
    const retentionMs =
      spec.kind === 'message' ? (spec.retentionMs ?? DEFAULT_MESSAGE_RETENTION_MS) : Number.POSITIVE_INFINITY;
    const existing = this.#broker.topics.get(spec.name);
    if (existing === undefined) {
      const partitions = Array.from({ length: spec.partitions }, () => ({ records: [], next: 0 }));
      this.#broker.topics.set(spec.name, { name: spec.name, kind: spec.kind, partitions, retentionMs });
    } else if (existing.kind !== spec.kind || existing.partitions.length !== spec.partitions) {
      throw new TransportError(
        'SLUICE_TOPIC_MISMATCH',
        `${NAME}: topic ${spec.name} exists as ${existing.kind} with ${existing.partitions.length} partition(s), not ` +
          `${spec.kind} with ${spec.partitions}; declare a new topic instead of changing this one`,
      );
    } else {
      existing.retentionMs = retentionMs;
    }
  }

  async publish(records: readonly OutgoingRecord[]): Promise<PublishAck[]> {
    this.#open();
    const topics = records.map((r) => {
      const topic = this.topic(r.topic);
      const size = [r.key, r.value ?? '', r.headers ? JSON.stringify(r.headers) : ''].reduce(
        (n, s) => n + Buffer.byteLength(s),
        0,
      );
      if (size > this.#settings.maxPayloadBytes)
        throw new PayloadTooLargeError(NAME, size, this.#settings.maxPayloadBytes);
      return topic;
    });
    const now = Date.now();
    const acks = records.map((r, i): PublishAck => {
      const topic = topics[i]!;
      const partition = partitionFor(r.key, topic.partitions.length);
      const log = topic.partitions[partition]!;
      if (topic.kind === 'entity') log.records = log.records.filter((s) => s.key !== r.key);
      const headers =
        r.headers && Object.keys(r.headers).length > 0 ? Object.freeze({ ...r.headers }) : EMPTY;
      log.records.push({ offset: log.next, key: r.key, value: r.value, headers, timestamp: now });
      return { topic: topic.name, partition, offset: String(log.next++) };
    });
    wakeAll(this.#broker);
    return acks;
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.#open();
    if (!options.group) throw new InvalidOptionError('subscribe', 'group', 'must be a non-empty string');
    if (options.topics.length === 0) throw new InvalidOptionError('subscribe', 'topics', 'must list a topic');
    for (const t of options.topics) this.topic(t);
    const sub = new MemorySubscription(this, this.#broker, this.#settings, options, () =>
      this.#subscriptions.delete(sub),
    );
    this.#subscriptions.add(sub);
    try {
      return await sub.start();
    } catch (error) {
      sub.abandon();
      throw error;
    }
  }

  async resetOffsets(group: string, topic: string, target: SeekTarget): Promise<void> {
    this.#open();
    const t = this.topic(topic);
    const state = groupOf(this.#broker, group);
    for (const p of partitionsOf(t, target))
      MemoryMembershipStore.reset(state, topic, p, BigInt(this.position(t, p, target)));
    wakeAll(this.#broker);
  }

  async lag(group: string, topic: string): Promise<readonly PartitionLag[]> {
    this.#open();
    return lagOf(this.topic(topic), this.#broker.groups.get(group), Date.now());
  }

  async read(topic: string, target: SeekTarget, limit: number): Promise<ConsumedRecord[]> {
    this.#open();
    const t = this.topic(topic);
    const out = partitionsOf(t, target).flatMap((p) => this.fetch(t, p, this.position(t, p, target), limit));
    return out.sort((a, b) => a.timestamp - b.timestamp).slice(0, limit);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    for (const sub of [...this.#subscriptions]) await sub.close();
    this.#closed = true;
  }

  /** Stops every member without leaving its group, as if the process died. For fault tests. */
  abandon(): void {
    for (const sub of [...this.#subscriptions]) sub.abandon();
    this.#closed = true;
  }

  /** @internal The topic, or `SLUICE_UNKNOWN_TOPIC`. */
  topic(name: string): Topic {
    const topic = this.#broker.topics.get(name);
    if (topic === undefined) {
      throw new TransportError(
        'SLUICE_UNKNOWN_TOPIC',
        `${NAME}: topic ${name} does not exist; call ensureTopic first`,
      );
    }
    this.#sweep(topic);
    return topic;
  }

  /** @internal Up to `limit` visible records of a partition from offset `from`. */
  fetch(topic: Topic, partition: number, from: number, limit: number): ConsumedRecord[] {
    const records = topic.partitions[partition]!.records;
    let lo = 0;
    let hi = records.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (records[mid]!.offset < from) lo = mid + 1;
      else hi = mid;
    }
    const oldest = Date.now() - topic.retentionMs;
    return records
      .slice(lo, lo + limit)
      .filter((s) => s.timestamp >= oldest)
      .map((s) => ({ ...s, topic: topic.name, partition, offset: String(s.offset) }));
  }

  /** @internal Where `target` points in one partition. */
  position(topic: Topic, partition: number, target: SeekTarget): number {
    const log = topic.partitions[partition]!;
    const oldest = Date.now() - topic.retentionMs;
    const from = (time: number) => log.records.find((s) => s.timestamp >= time)?.offset ?? log.next;
    if (target.to === 'earliest') return from(oldest);
    if (target.to === 'latest') return log.next;
    if (target.to === 'time') return from(Math.max(target.time, oldest));
    if (!/^\d+$/.test(target.offset)) {
      throw new TransportError(
        'SLUICE_INVALID_OFFSET',
        `${NAME}: offset ${target.offset} is not a decimal integer`,
      );
    }
    return Number(target.offset);
  }

  /** @internal */
  checkOpen(): void {
    this.#open();
  }

  #open(): void {
    if (this.#closed) throw new ClosedError(`${NAME} transport`);
  }

  /** Deletes expired `message` records and old tombstones. */
  #sweep(topic: Topic): void {
    const now = Date.now();
    for (const log of topic.partitions) {
      const first = log.records[0];
      if (first !== undefined && first.timestamp < now - topic.retentionMs) {
        log.records = log.records.filter((s) => s.timestamp >= now - topic.retentionMs);
      }
      if (topic.kind === 'entity') {
        const cutoff = now - this.#settings.tombstoneRetentionMs;
        if (log.records.some((s) => s.value === null && s.timestamp < cutoff)) {
          log.records = log.records.filter((s) => s.value !== null || s.timestamp >= cutoff);
        }
      }
    }
  }
}

/** A member of a consumer group on the in-memory transport: the shared group engine over a memory store. */
class MemorySubscription implements Subscription {
  readonly #transport: MemoryTransport;
  readonly #broker: Broker;
  readonly #group: string;
  readonly #onClose: () => void;
  readonly #member: GroupMember;
  #closed = false;

  constructor(
    transport: MemoryTransport,
    broker: Broker,
    settings: Settings,
    options: SubscribeOptions,
    onClose: () => void,
  ) {
    this.#transport = transport;
    this.#broker = broker;
    this.#group = options.group;
    this.#onClose = onClose;
    const t = transport;
    const sessionTimeoutMs = settings.sessionTimeoutMs;
    this.#member = createGroupMember({
      store: new MemoryMembershipStore(groupOf(broker, options.group), sessionTimeoutMs, () =>
        wakeAll(broker),
      ),
      memberId: options.memberId ?? randomUUID(),
      topics: options.topics,
      startFrom: options.startFrom === 'latest' ? 'latest' : 'earliest',
      ephemeral: options.ephemeral === true,
      heartbeatIntervalMs: Math.max(1, Math.floor(sessionTimeoutMs / 3)),
      sessionTimeoutMs,
      partitionCount: (topic) => broker.topics.get(topic)?.partitions.length,
      latest: async (topic, partitions) =>
        partitions.map((p) => BigInt(t.position(t.topic(topic), p, { to: 'latest' }))),
      fetch: async (cursors, maxRecords) => {
        const out: ConsumedRecord[] = [];
        for (const cursor of cursors) {
          if (out.length >= maxRecords) break;
          const records = t.fetch(
            t.topic(cursor.topic),
            cursor.partition,
            Number(cursor.next),
            maxRecords - out.length,
          );
          if (records.length > 0) cursor.next = BigInt(records[records.length - 1]!.offset) + 1n;
          out.push(...records);
        }
        return out;
      },
      wait: (until, signal) => waitForWake(broker.waiters, Math.max(0, until - Date.now()), signal),
    });
  }

  /** Joins the group (first heartbeat and assignment). */
  async start(): Promise<this> {
    await this.#member.start();
    wakeAll(this.#broker);
    return this;
  }

  async poll(options: PollOptions): Promise<ConsumedRecord[]> {
    this.#open();
    checkPollOptions(options);
    return this.#member.poll(options);
  }

  async commit(records: readonly ConsumedRecord[]): Promise<void> {
    this.#open();
    await this.#member.commit(records);
  }

  assignment(): readonly TopicPartition[] {
    return this.#member.assignment();
  }

  async seek(topic: string, target: SeekTarget): Promise<void> {
    this.#open();
    const t = this.#transport.topic(topic);
    await this.#member.seek(topic, partitionsOf(t, target), async (partitions) =>
      partitions.map((p) => BigInt(this.#transport.position(t, p, target))),
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#stop();
    await this.#member.leave();
    wakeAll(this.#broker);
  }

  /** Stops heartbeating without leaving the group. */
  abandon(): void {
    if (!this.#closed) this.#stop();
  }

  #stop(): void {
    this.#closed = true;
    this.#member.stop();
    this.#onClose();
    wakeAll(this.#broker);
  }

  #open(): void {
    this.#transport.checkOpen();
    if (this.#closed) throw new ClosedError(`${NAME} subscription of group ${this.#group}`);
  }
}

/** Creates an in-memory transport for unit tests of core logic. */
export function createMemoryTransport(options: MemoryTransportOptions = {}): MemoryTransport {
  return new MemoryTransport(options);
}
