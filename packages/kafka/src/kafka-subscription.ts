import {
  ClosedError,
  type ConsumedRecord,
  type PollOptions,
  type SeekTarget,
  type Subscription,
  type TopicPartition,
} from '@sluice/core';
import type { KafkaAdminApi } from './kafka-admin-api.js';
import { type Consumer, promised, type RdKafka } from './kafka-client.js';
import { kafkaError, parseOffset, unknownTopicError } from './kafka-errors.js';
import { consumedOf, deliverable } from './kafka-records.js';
import type { KafkaTopic } from './kafka-topics.js';

/** The longest a single librdkafka consume call waits, so aborts and closes are noticed this soon. */
const SLICE_MS = 50;

/**
 * One member of a consumer group (or an ephemeral reader) over a librdkafka `KafkaConsumer`.
 *
 * Group members use Kafka's own group membership (classic protocol, `cooperative-sticky` assignment):
 * heartbeats run in librdkafka's background thread; rebalances are applied while `poll` runs. `poll` takes at
 * most `maxRecords` from librdkafka's local prefetch queue. `commit` stores offset + 1 of the latest given
 * record of each assigned partition, never moving back. An ephemeral reader assigns every partition itself
 * and commits nothing.
 */
export class KafkaSubscription implements Subscription {
  readonly #consumer: Consumer;
  readonly #byKafkaName: ReadonlyMap<string, KafkaTopic>;
  readonly #byName: ReadonlyMap<string, KafkaTopic>;
  readonly #admin: KafkaAdminApi;
  readonly #ephemeral: boolean;
  readonly #onClose: (sub: KafkaSubscription) => void;
  readonly #committed = new Map<string, number>();
  #busy: Promise<unknown> = Promise.resolve();
  #closed = false;
  #closing: Promise<void> | undefined;
  #assignment: TopicPartition[] = [];

  constructor(
    consumer: Consumer,
    topics: readonly KafkaTopic[],
    admin: KafkaAdminApi,
    ephemeral: boolean,
    onClose: (sub: KafkaSubscription) => void,
  ) {
    this.#consumer = consumer;
    this.#byKafkaName = new Map(topics.map((t) => [t.kafkaName, t]));
    this.#byName = new Map(topics.map((t) => [t.name, t]));
    this.#admin = admin;
    this.#ephemeral = ephemeral;
    this.#onClose = onClose;
    consumer.setDefaultIsTimeoutOnlyForFirstMessage(true);
  }

  async poll(options: PollOptions): Promise<ConsumedRecord[]> {
    if (this.#closed) throw new ClosedError('kafka subscription');
    const deadline = Date.now() + Math.max(0, options.maxWaitMs);
    const max = Math.max(1, Math.floor(options.maxRecords));
    for (;;) {
      if (this.#closed || options.signal?.aborted) return [];
      const wait = Math.max(0, Math.min(deadline - Date.now(), SLICE_MS));
      const messages = await this.#consume(max, wait);
      this.#refreshAssignment();
      const records = deliverable(
        messages.flatMap((m) => {
          const topic = this.#byKafkaName.get(m.topic);
          return topic === undefined ? [] : [consumedOf(m, topic)];
        }),
        this.#byName,
        Date.now(),
      );
      if (records.length > 0) return records;
      if (Date.now() >= deadline) return [];
    }
  }

  async commit(records: readonly ConsumedRecord[]): Promise<void> {
    if (this.#closed) throw new ClosedError('kafka subscription');
    if (this.#ephemeral || records.length === 0) return;
    const assigned = new Set(this.#currentAssignment().map((a) => `${a.topic}\u0000${a.partition}`));
    const next = new Map<string, { topic: string; partition: number; offset: number }>();
    for (const r of records) {
      const topic = this.#byName.get(r.topic);
      if (topic === undefined) continue;
      const key = `${topic.kafkaName}\u0000${r.partition}`;
      if (!assigned.has(key)) continue;
      const offset = parseOffset(r.offset) + 1;
      if (offset <= (this.#committed.get(key) ?? -1) || offset <= (next.get(key)?.offset ?? -1)) continue;
      next.set(key, { topic: topic.kafkaName, partition: r.partition, offset });
    }
    if (next.size === 0) return;
    try {
      await promised<void>((done) => this.#consumer.commitCb([...next.values()], done));
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
    const mine = this.#currentAssignment()
      .filter((a) => a.topic === info.kafkaName)
      .map((a) => a.partition);
    let offsets: Map<number, number>;
    if (target.to === 'offset') {
      offsets = new Map(
        mine.includes(target.partition) ? [[target.partition, parseOffset(target.offset)]] : [],
      );
    } else {
      const query = target.to === 'time' ? { time: target.time } : target.to;
      offsets = mine.length === 0 ? new Map() : await this.#admin.offsets(info.kafkaName, mine, query);
    }
    await this.#exclusive(async () => {
      for (const [partition, offset] of offsets) {
        await promised<void>((done) =>
          this.#consumer.seek({ topic: info.kafkaName, partition, offset }, 5000, done),
        ).catch((error) => {
          throw kafkaError(`seek of ${topic} partition ${partition}`, error);
        });
      }
    });
  }

  /** Stops: a waiting poll returns `[]`; a group member leaves its group (static members do not). */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closed = true;
    this.#closing = (async () => {
      await this.#busy.catch(() => undefined);
      await promised<unknown>((done) => this.#consumer.disconnect(done)).catch(() => undefined);
      this.#onClose(this);
    })();
    return this.#closing;
  }

  #currentAssignment(): RdKafka.Assignment[] {
    try {
      return this.#consumer.assignments();
    } catch {
      return [];
    }
  }

  #refreshAssignment(): void {
    this.#assignment = this.#currentAssignment().flatMap((a) => {
      const topic = this.#byKafkaName.get(a.topic);
      return topic === undefined ? [] : [{ topic: topic.name, partition: a.partition }];
    });
  }

  #consume(max: number, waitMs: number): Promise<RdKafka.Message[]> {
    return this.#exclusive(async () => {
      if (this.#closed) return [];
      this.#consumer.setDefaultConsumeTimeout(waitMs);
      try {
        return await promised<RdKafka.Message[]>((done) => this.#consumer.consume(max, done));
      } catch (error) {
        if (this.#closed) return [];
        throw kafkaError('poll', error);
      }
    });
  }

  /** Runs calls into the consumer one at a time. */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#busy.then(fn, fn);
    this.#busy = run.catch(() => undefined);
    return run;
  }
}
