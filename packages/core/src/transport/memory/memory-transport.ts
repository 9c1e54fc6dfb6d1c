import { randomUUID } from 'node:crypto';
import type { TopicKind, TopicSpec } from '../../contracts/define-topic.js';
import { ClosedError, InvalidOptionError, PayloadTooLargeError, TransportError } from '../../errors.js';
import { partitionFor } from '../../partitioning/partition-for.js';
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

/** Options of {@link createMemoryTransport}; all optional. */
export interface MemoryTransportOptions {
  /** Largest record accepted (value, key and headers, UTF-8 bytes). Default 1 MiB. */
  readonly maxPayloadBytes?: number;
  /** A member silent for this long is dead and its partitions move. Default 10000 ms. */
  readonly sessionTimeoutMs?: number;
  /** How long an `entity` tombstone is kept. Default 24 h. */
  readonly tombstoneRetentionMs?: number;
}

type Settings = Readonly<Required<MemoryTransportOptions>>;
interface Stored {
  readonly offset: number;
  readonly key: string;
  readonly value: string | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly timestamp: number;
}
interface Topic {
  readonly name: string;
  readonly kind: TopicKind;
  readonly partitions: { records: Stored[]; next: number }[];
  retentionMs: number;
}
interface Member {
  readonly id: string;
  readonly topics: ReadonlySet<string>;
  heartbeatAt: number;
  readonly timeoutMs: number;
}
interface Broker {
  readonly topics: Map<string, Topic>;
  readonly groups: Map<string, { members: Map<string, Member>; committed: Map<string, number> }>;
  readonly waiters: Set<() => void>;
}

const NAME = 'memory';
const DAY = 24 * 60 * 60 * 1000;
const EMPTY: Readonly<Record<string, string>> = Object.freeze({});
const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;
const wakeAll = (broker: Broker) => {
  for (const wake of [...broker.waiters]) wake();
};

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
    if (!Number.isInteger(spec.partitions) || spec.partitions < 1) {
      throw new InvalidOptionError(
        'ensureTopic',
        'partitions',
        `must be a positive integer, got ${spec.partitions}`,
      );
    }
    const retentionMs = spec.kind === 'message' ? (spec.retentionMs ?? DAY) : Number.POSITIVE_INFINITY;
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
    return sub;
  }

  async resetOffsets(group: string, topic: string, target: SeekTarget): Promise<void> {
    this.#open();
    const t = this.topic(topic);
    const state = groupOf(this.#broker, group);
    for (const p of partitionsOf(t, target))
      state.committed.set(tpKey(topic, p), this.position(t, p, target));
    wakeAll(this.#broker);
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

/** A member of a consumer group on the in-memory transport. */
class MemorySubscription implements Subscription {
  readonly #transport: MemoryTransport;
  readonly #broker: Broker;
  readonly #member: Member;
  readonly #group: string;
  readonly #options: SubscribeOptions;
  readonly #onClose: () => void;
  readonly #timer: NodeJS.Timeout | undefined;
  #positions = new Map<string, number>();
  #assignment: readonly TopicPartition[] = [];
  #nextChange = Number.POSITIVE_INFINITY;
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
    this.#options = options;
    this.#onClose = onClose;
    const timeoutMs = settings.sessionTimeoutMs;
    this.#member = {
      id: options.memberId ?? randomUUID(),
      topics: new Set(options.topics),
      heartbeatAt: 0,
      timeoutMs,
    };
    if (!options.ephemeral) {
      this.#timer = setInterval(() => this.#heartbeat(), Math.max(1, Math.floor(timeoutMs / 3)));
      this.#timer.unref();
    }
    this.#refresh();
    wakeAll(broker);
  }

  async poll(options: PollOptions): Promise<ConsumedRecord[]> {
    this.#open();
    if (!Number.isSafeInteger(options.maxRecords) || options.maxRecords < 1) {
      throw new InvalidOptionError(
        'poll',
        'maxRecords',
        `must be a positive integer, got ${options.maxRecords}`,
      );
    }
    const deadline = Date.now() + options.maxWaitMs;
    for (;;) {
      if (this.#closed || options.signal?.aborted) return [];
      this.#refresh();
      const out: ConsumedRecord[] = [];
      for (const { topic, partition } of this.#assignment) {
        if (out.length >= options.maxRecords) break;
        const key = tpKey(topic, partition);
        const records = this.#transport.fetch(
          this.#transport.topic(topic),
          partition,
          this.#positions.get(key)!,
          options.maxRecords - out.length,
        );
        if (records.length > 0) this.#positions.set(key, Number(records[records.length - 1]!.offset) + 1);
        out.push(...records);
      }
      const until = Math.min(deadline, this.#nextChange);
      if (out.length > 0 || Date.now() >= deadline) return out;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', done);
          this.#broker.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(0, until - Date.now()));
        options.signal?.addEventListener('abort', done, { once: true });
        this.#broker.waiters.add(done);
      });
    }
  }

  async commit(records: readonly ConsumedRecord[]): Promise<void> {
    this.#open();
    if (this.#options.ephemeral) return;
    const committed = groupOf(this.#broker, this.#group).committed;
    for (const r of records) {
      const key = tpKey(r.topic, r.partition);
      if (this.#positions.has(key) && Number(r.offset) + 1 > (committed.get(key) ?? -1)) {
        committed.set(key, Number(r.offset) + 1);
      }
    }
  }

  assignment(): readonly TopicPartition[] {
    return this.#assignment;
  }

  async seek(topic: string, target: SeekTarget): Promise<void> {
    this.#open();
    this.#refresh();
    const t = this.#transport.topic(topic);
    for (const p of partitionsOf(t, target)) {
      const key = tpKey(topic, p);
      if (this.#positions.has(key)) this.#positions.set(key, this.#transport.position(t, p, target));
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.abandon();
    groupOf(this.#broker, this.#group).members.delete(this.#member.id);
    wakeAll(this.#broker);
  }

  /** Stops heartbeating without leaving the group. */
  abandon(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#onClose();
    wakeAll(this.#broker);
  }

  #open(): void {
    this.#transport.checkOpen();
    if (this.#closed) throw new ClosedError(`${NAME} subscription of group ${this.#group}`);
  }

  #heartbeat(): void {
    const members = groupOf(this.#broker, this.#group).members;
    const now = Date.now();
    const known = members.get(this.#member.id);
    // Considered dead meanwhile: its partitions may have moved, so read them again from the committed offsets.
    if (this.#member.heartbeatAt > 0 && (known === undefined || known.heartbeatAt + known.timeoutMs < now)) {
      this.#positions.clear();
    }
    this.#member.heartbeatAt = now;
    if (known === undefined) {
      members.set(this.#member.id, this.#member);
      wakeAll(this.#broker);
    }
  }

  #refresh(): void {
    const t = this.#transport;
    let assigned: TopicPartition[];
    if (this.#options.ephemeral) {
      assigned = this.#options.topics.flatMap((topic) =>
        t.topic(topic).partitions.map((_, partition) => ({ topic, partition })),
      );
    } else {
      this.#heartbeat();
      const now = Date.now();
      const live = [...groupOf(this.#broker, this.#group).members.values()]
        .filter((m) => m === this.#member || m.heartbeatAt + m.timeoutMs >= now)
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      this.#nextChange = Math.min(
        ...live.filter((m) => m !== this.#member).map((m) => m.heartbeatAt + m.timeoutMs + 1),
      );
      const topics = [...new Set(live.flatMap((m) => [...m.topics]))].sort();
      assigned = [];
      let next = 0;
      for (const topic of topics) {
        const count = this.#broker.topics.get(topic)?.partitions.length ?? 0;
        for (let partition = 0; partition < count; partition++) {
          for (let tries = 0; tries < live.length; tries++) {
            const member = live[next++ % live.length]!;
            if (!member.topics.has(topic)) continue;
            if (member === this.#member) assigned.push({ topic, partition });
            break;
          }
        }
      }
    }
    const committed = groupOf(this.#broker, this.#group).committed;
    const positions = new Map<string, number>();
    for (const { topic, partition } of assigned) {
      const key = tpKey(topic, partition);
      const start =
        this.#options.startFrom === 'latest' ? { to: 'latest' as const } : { to: 'earliest' as const };
      const fallback = () => (this.#options.ephemeral ? undefined : committed.get(key));
      positions.set(
        key,
        this.#positions.get(key) ?? fallback() ?? t.position(t.topic(topic), partition, start),
      );
    }
    this.#positions = positions;
    this.#assignment = Object.freeze(assigned);
  }
}

function groupOf(broker: Broker, group: string) {
  let state = broker.groups.get(group);
  if (state === undefined) {
    state = { members: new Map(), committed: new Map() };
    broker.groups.set(group, state);
  }
  return state;
}

function partitionsOf(topic: Topic, target: SeekTarget): number[] {
  if (target.to !== 'offset') return topic.partitions.map((_, p) => p);
  if (
    !Number.isInteger(target.partition) ||
    target.partition < 0 ||
    target.partition >= topic.partitions.length
  ) {
    throw new TransportError(
      'SLUICE_INVALID_PARTITION',
      `${NAME}: topic ${topic.name} has no partition ${target.partition}`,
    );
  }
  return [target.partition];
}

/** Creates an in-memory transport for unit tests of core logic. */
export function createMemoryTransport(options: MemoryTransportOptions = {}): MemoryTransport {
  return new MemoryTransport(options);
}
