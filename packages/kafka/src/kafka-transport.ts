import { randomUUID } from 'node:crypto';
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
import { validateTopicSpec } from '@sluice/core/adapter';
import type { OffsetQuery } from './kafka-admin-api.js';
import type { KafkaDriver, KafkaDriverSubscription } from './kafka-driver.js';
import {
  KAFKA_NAME,
  kafkaError,
  parseOffset,
  topicMismatchError,
  unknownTopicError,
} from './kafka-errors.js';
import { openKafkaJsDriver } from './kafka-js-driver.js';
import { type KafkaNames, kafkaNames } from './kafka-names.js';
import {
  type KafkaTransportOptions,
  type ResolvedKafkaOptions,
  resolveKafkaOptions,
} from './kafka-options.js';
import { type KafkaTopic, kindOf, topicConfig } from './kafka-topics.js';

/** The Sluice transport on Apache Kafka; see {@link createKafkaTransport}. */
export class KafkaTransport implements Transport {
  readonly name = KAFKA_NAME;
  readonly options: ResolvedKafkaOptions;
  readonly #names: KafkaNames;
  readonly #driver: KafkaDriver;
  readonly #admin: KafkaDriver['admin'];
  readonly #topics = new Map<string, KafkaTopic>();
  readonly #subscriptions = new Set<KafkaDriverSubscription>();
  #closing: Promise<void> | undefined;

  private constructor(options: ResolvedKafkaOptions, driver: KafkaDriver) {
    this.options = options;
    this.#names = kafkaNames(options.namespace);
    this.#driver = driver;
    this.#admin = driver.admin;
  }

  /** Connects the admin client and the producer. */
  static async open(options: KafkaTransportOptions): Promise<KafkaTransport> {
    const resolved = resolveKafkaOptions(options);
    const driver = await openKafkaJsDriver(resolved);
    return new KafkaTransport(resolved, driver);
  }

  async ensureTopic(spec: TopicSpec): Promise<void> {
    this.#check();
    validateTopicSpec(spec);
    const kafkaName = this.#names.topic(spec.name);
    const wanted: KafkaTopic = {
      name: spec.name,
      kafkaName,
      kind: spec.kind,
      partitions: spec.partitions,
      retentionMs: spec.kind === 'message' ? (spec.retentionMs ?? 24 * 60 * 60 * 1000) : undefined,
    };
    let created: boolean;
    try {
      created = await this.#admin.createTopic(kafkaName, spec.partitions, topicConfig(spec, this.options));
    } catch (error) {
      throw kafkaError(`creating topic ${kafkaName}`, error);
    }
    if (created) {
      this.#topics.set(spec.name, wanted);
      return;
    }
    // Another process (a second relay starting at the same moment) may have created it a moment ago: its
    // configuration and partitions become visible, and its leaders start, shortly after.
    let existing = await this.#describe(spec.name);
    for (const deadline = Date.now() + this.options.requestTimeoutMs; existing === undefined; ) {
      if (Date.now() > deadline) throw unknownTopicError(spec.name);
      await new Promise((resolve) => setTimeout(resolve, 50));
      existing = await this.#describe(spec.name);
    }
    await this.#admin.leadersOf(kafkaName, existing.partitions);
    if (existing.kind !== spec.kind || existing.partitions !== spec.partitions) {
      this.#topics.delete(spec.name);
      throw topicMismatchError(spec.name, existing, spec);
    }
    this.#topics.set(spec.name, existing);
  }

  async publish(records: readonly OutgoingRecord[]): Promise<PublishAck[]> {
    this.#check();
    const topics = new Map<string, KafkaTopic>();
    for (const record of records) {
      if (!topics.has(record.topic)) topics.set(record.topic, await this.#topic(record.topic));
    }
    this.#check();
    return this.#driver.producer.publish(records, topics);
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.#check();
    if (!Array.isArray(options.topics) || options.topics.length === 0) {
      throw new InvalidOptionError('subscribe', 'topics', 'must name at least one topic');
    }
    if (typeof options.group !== 'string' || options.group === '') {
      throw new InvalidOptionError(
        'subscribe',
        'group',
        `must be a non-empty string, got ${JSON.stringify(options.group)}`,
      );
    }
    const topics: KafkaTopic[] = [];
    for (const name of options.topics) topics.push(await this.#topic(name));
    const startFrom = options.startFrom ?? 'earliest';
    const ephemeral = options.ephemeral === true;
    const group = ephemeral ? `sluice-ephemeral-${randomUUID()}` : this.#names.group(options.group);
    let sub: KafkaDriverSubscription;
    try {
      sub = await this.#driver.subscribe(
        topics,
        {
          group,
          ephemeral,
          startFrom: startFrom === 'latest' ? 'latest' : 'earliest',
          staticMemberId:
            this.options.staticMembership && !ephemeral
              ? (options.memberId ?? `sluice-${randomUUID()}`)
              : undefined,
        },
        (s) => this.#subscriptions.delete(s),
      );
    } catch (error) {
      throw kafkaError(`subscribing to ${options.topics.join(', ')}`, error);
    }
    this.#subscriptions.add(sub);
    if (this.#closing !== undefined) {
      await sub.close();
      throw new ClosedError(`${KAFKA_NAME} transport`);
    }
    return sub;
  }

  /**
   * Commits the group's position outside any generation (the group must have no live members, as with
   * `kafka-consumer-groups --reset-offsets`).
   */
  async resetOffsets(group: string, topic: string, target: SeekTarget): Promise<void> {
    this.#check();
    const info = await this.#topic(topic);
    let offsets: Map<number, number>;
    if (target.to === 'offset') {
      offsets = new Map([[target.partition, parseOffset(target.offset)]]);
    } else {
      const partitions = Array.from({ length: info.partitions }, (_, i) => i);
      const query = target.to === 'time' ? { time: target.time } : target.to;
      offsets = await this.#admin.offsets(info.kafkaName, partitions, query).catch((error) => {
        throw kafkaError(`listing offsets of ${topic}`, error);
      });
    }
    try {
      await this.#driver.commitGroupOffsets(this.#names.group(group), info.kafkaName, offsets);
    } catch (error) {
      throw kafkaError(`resetting the offsets of group ${group} in ${topic}`, error);
    }
  }

  /**
   * Like `kafka-consumer-groups --describe`: ListOffsets (the first record still visible: the log start, or
   * for a `message` topic the first inside its retention; and the end) and the group's OffsetFetch; `lag` is
   * `end - max(committed, first visible)`. Offsets are contiguous (no transactions), so that is the exact count
   * of records left on `event` and `message` topics; on an `entity` topic it also counts older values of a
   * key that compaction has not removed yet, or has removed (their offsets): an upper bound there, as Kafka's
   * own tools report.
   */
  async lag(group: string, topic: string): Promise<readonly PartitionLag[]> {
    this.#check();
    const info = await this.#topic(topic);
    const partitions = Array.from({ length: info.partitions }, (_, i) => i);
    // A message topic's records older than its retention are never delivered, even before the broker deletes
    // their segment: count from the first record inside the retention.
    const visible: OffsetQuery =
      info.retentionMs === undefined ? 'earliest' : { time: Date.now() - info.retentionMs };
    const [earliest, latest, committed] = await Promise.all([
      this.#admin.offsets(info.kafkaName, partitions, visible),
      this.#admin.offsets(info.kafkaName, partitions, 'latest'),
      this.#driver.committedOffsets(this.#names.group(group), info.kafkaName, partitions),
    ]).catch((error: unknown) => {
      throw kafkaError(`reading the lag of group ${group} in ${topic}`, error);
    });
    return partitions.map((partition) => {
      const end = latest.get(partition) ?? 0;
      const position = committed[partition];
      const from = Math.max(position ?? 0, earliest.get(partition) ?? 0);
      return {
        partition,
        committed: position === undefined ? null : String(position),
        end: String(end),
        lag: Math.max(0, end - from),
      };
    });
  }

  async read(topic: string, target: SeekTarget, limit: number): Promise<ConsumedRecord[]> {
    this.#check();
    return this.#driver.read(await this.#topic(topic), target, limit);
  }

  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closing = (async () => {
      await Promise.all([...this.#subscriptions].map((s) => s.close()));
      await this.#driver.close();
    })();
    return this.#closing;
  }

  /**
   * For fault tests: closes every client as a crashed process would look to the group coordinator. With
   * `staticMembership` the members send no LeaveGroup, so their partitions move only after the session
   * timeout; without it this is {@link close}.
   */
  abandon(): Promise<void> {
    return this.close();
  }

  #check(): void {
    if (this.#closing !== undefined) throw new ClosedError(`${KAFKA_NAME} transport`);
  }

  async #topic(name: string): Promise<KafkaTopic> {
    const known = this.#topics.get(name);
    if (known !== undefined) return known;
    const found = await this.#describe(name);
    if (found === undefined) throw unknownTopicError(name);
    this.#topics.set(name, found);
    return found;
  }

  async #describe(name: string): Promise<KafkaTopic | undefined> {
    const kafkaName = this.#names.topic(name);
    try {
      const configs = await this.#admin.configs(kafkaName);
      if (configs === undefined) return undefined;
      const partitions = await this.#admin.partitions(kafkaName);
      if (partitions === undefined) return undefined;
      return { name, kafkaName, partitions, ...kindOf(configs) };
    } catch (error) {
      throw kafkaError(`describing topic ${kafkaName}`, error);
    }
  }
}

/**
 * Opens the Kafka transport: `createKafkaTransport({ url: 'kafka://127.0.0.1:9092' })`. See
 * {@link KafkaTransportOptions} for tuning and the package README for what it guarantees.
 */
export function createKafkaTransport(options: KafkaTransportOptions): Promise<KafkaTransport> {
  return KafkaTransport.open(options);
}
