import { type MessageToProduce, Producer } from '@platformatic/kafka';
import { type OutgoingRecord, PayloadTooLargeError, type PublishAck } from '@sluice/core';
import { partitionFor } from '@sluice/core/adapter';
import { KAFKA_NAME, kafkaError, unconfirmedError } from './kafka-errors.js';
import { clientOptions } from './kafka-js-client.js';
import type { ResolvedKafkaOptions } from './kafka-options.js';
import type { KafkaProducerApi } from './kafka-producer-api.js';
import { kafkaHeaders, sizeOf } from './kafka-records.js';
import type { KafkaTopic } from './kafka-topics.js';

/**
 * The idempotent producer on `@platformatic/kafka`: `idempotent: true` (acks -1, "all"). One `send` at a time:
 * the client numbers a partition's batches from a counter it advances only when a response arrives, so two
 * requests in flight to one partition would carry the same sequence and the broker would take the second for
 * a duplicate of the first. A failed send is retried by the client with the same sequences (so a batch the
 * broker refused, or stored before the connection broke, is not stored twice); if it still fails, the producer
 * is replaced (a new producer id): the client does not advance the sequences of the partitions of a send that
 * succeeded while another partition of it failed, and reusing them would make the broker drop new records as
 * duplicates. The caller publishes a failed batch again (consumers' inboxes skip a record stored twice).
 *
 * A record counts as stored only with the base offset the broker returned for its partition's batch (the
 * offset of a record is that plus its place in the batch); a partition answered without an offset fails the
 * publish with a retryable `SLUICE_PUBLISH_UNCONFIRMED`.
 */
export class KafkaJsProducer implements KafkaProducerApi {
  readonly #options: ResolvedKafkaOptions;
  #producer: Producer;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(options: ResolvedKafkaOptions, producer: Producer) {
    this.#options = options;
    this.#producer = producer;
  }

  static async connect(options: ResolvedKafkaOptions): Promise<KafkaJsProducer> {
    const producer = KafkaJsProducer.#create(options);
    try {
      await producer.initIdempotentProducer({});
    } catch (error) {
      await producer.close().catch(() => undefined);
      throw kafkaError(`connecting to ${options.brokers.join(',')}`, error);
    }
    return new KafkaJsProducer(options, producer);
  }

  static #create(options: ResolvedKafkaOptions): Producer {
    return new Producer({
      ...clientOptions(options),
      timeout: options.deliveryTimeoutMs,
      idempotent: true,
      acks: -1,
      // The client retries a refused request (NOT_LEADER_OR_FOLLOWER, CORRUPT_MESSAGE, a broken connection)
      // with the same sequence numbers, for about a second.
      retries: 10,
      retryDelay: 100,
    });
  }

  async publish(
    records: readonly OutgoingRecord[],
    topics: ReadonlyMap<string, KafkaTopic>,
  ): Promise<PublishAck[]> {
    for (const record of records) {
      const size = sizeOf(record);
      if (size > this.#options.maxPayloadBytes)
        throw new PayloadTooLargeError(KAFKA_NAME, size, this.#options.maxPayloadBytes);
    }
    if (records.length === 0) return [];
    const partitions = records.map((record) =>
      partitionFor(record.key, topics.get(record.topic)!.partitions),
    );
    const messages: MessageToProduce[] = records.map((record, i) => {
      const headers = kafkaHeaders(record);
      return {
        topic: topics.get(record.topic)!.kafkaName,
        partition: partitions[i]!,
        key: Buffer.from(record.key),
        value: record.value === null ? (null as unknown as Buffer) : Buffer.from(record.value, 'utf8'),
        headers,
      };
    });
    const run = this.#queue.then(() => this.#send(messages));
    this.#queue = run.catch(() => undefined);
    const base = await run;
    // The batch of a partition keeps the input order: a record's offset is the base plus its place in it.
    const next = new Map<string, number>();
    let unconfirmed = 0;
    const acks = records.map((record, i) => {
      const key = `${messages[i]!.topic}\u0000${partitions[i]}`;
      const offset = next.get(key) ?? base.get(key) ?? -1;
      if (!(offset >= 0)) unconfirmed++;
      else next.set(key, offset + 1);
      return { topic: record.topic, partition: partitions[i]!, offset: String(offset) };
    });
    if (unconfirmed > 0) throw unconfirmedError(unconfirmed, records.length);
    return acks;
  }

  /** Sends one request per broker; resolves the base offset of each `topic\0partition`. */
  async #send(messages: MessageToProduce[]): Promise<Map<string, number>> {
    if (this.#closed) throw kafkaError('publish', new Error('the producer was closed'));
    let timer: NodeJS.Timeout | undefined;
    try {
      // The client retries a request whose broker went away for as long as it takes to reconnect: a publish
      // gives up after `deliveryTimeoutMs` (the records may still be stored; the caller publishes again).
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no acknowledgement within ${this.#options.deliveryTimeoutMs} ms`)),
          this.#options.deliveryTimeoutMs,
        );
      });
      const result = await Promise.race([this.#producer.send({ messages }), timeout]);
      const base = new Map<string, number>();
      for (const o of result.offsets ?? []) base.set(`${o.topic}\u0000${o.partition}`, Number(o.offset));
      return base;
    } catch (error) {
      const old = this.#producer;
      this.#producer = KafkaJsProducer.#create(this.#options);
      void old.close().catch(() => undefined);
      throw kafkaError('publish', error);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue;
    await this.#producer.close().catch(() => undefined);
  }
}
