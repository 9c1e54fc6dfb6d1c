import { type OutgoingRecord, PayloadTooLargeError, type PublishAck, partitionFor } from '@sluice/core';
import { promised, type RdKafka, rdkafka } from './kafka-client.js';
import { KAFKA_NAME, kafkaError } from './kafka-errors.js';
import type { ResolvedKafkaOptions } from './kafka-options.js';
import { headersOf, sizeOf } from './kafka-records.js';
import type { KafkaTopic } from './kafka-topics.js';

type Pending = { resolve: (offset: number) => void; reject: (error: unknown) => void };

/**
 * The idempotent producer: `enable.idempotence=true`, `acks=all`, `max.in.flight.requests.per.connection=5`.
 * The broker acknowledges a record once every in-sync replica has it; the producer's sequence numbers let it
 * retry without duplicates and keep order per partition with up to 5 requests in flight. The partition is
 * chosen here with core's `partitionFor`, so every transport maps a key to the same partition.
 */
export class KafkaProducer {
  readonly #producer: RdKafka.Producer;
  readonly #options: ResolvedKafkaOptions;
  readonly #pending = new Map<number, Pending>();
  #next = 0;

  private constructor(producer: RdKafka.Producer, options: ResolvedKafkaOptions) {
    this.#producer = producer;
    this.#options = options;
    producer.on('delivery-report', (err, report) => {
      const id = report.opaque as number;
      const pending = this.#pending.get(id);
      if (pending === undefined) return;
      this.#pending.delete(id);
      if (err) pending.reject(err);
      else pending.resolve(report.offset);
    });
  }

  static async connect(options: ResolvedKafkaOptions): Promise<KafkaProducer> {
    const producer = new rdkafka.Producer({
      'bootstrap.servers': options.brokers.join(','),
      'client.id': options.clientId,
      'enable.idempotence': true,
      acks: 'all',
      'max.in.flight.requests.per.connection': 5,
      'linger.ms': 2,
      'message.timeout.ms': options.deliveryTimeoutMs,
      'message.max.bytes': Math.max(options.maxPayloadBytes + 64 * 1024, 1_000_000),
      'socket.nagle.disable': true,
      'reconnect.backoff.ms': 50,
      'reconnect.backoff.max.ms': 1000,
      dr_cb: true,
      log_level: 0,
    } as RdKafka.ProducerGlobalConfig);
    try {
      await promised((done) => producer.connect({ timeout: options.requestTimeoutMs }, done));
    } catch (error) {
      throw kafkaError(`connecting to ${options.brokers.join(',')}`, error);
    }
    producer.setPollInBackground(true);
    return new KafkaProducer(producer, options);
  }

  /** Checks every record's size, then produces them all; resolves with their offsets in input order. */
  async publish(
    records: readonly OutgoingRecord[],
    topics: ReadonlyMap<string, KafkaTopic>,
  ): Promise<PublishAck[]> {
    for (const record of records) {
      const size = sizeOf(record);
      if (size > this.#options.maxPayloadBytes)
        throw new PayloadTooLargeError(KAFKA_NAME, size, this.#options.maxPayloadBytes);
    }
    const sends = records.map((record) => {
      const topic = topics.get(record.topic)!;
      const partition = partitionFor(record.key, topic.partitions);
      return new Promise<PublishAck>((resolve, reject) => {
        const id = this.#next++;
        this.#pending.set(id, {
          resolve: (offset) => resolve({ topic: record.topic, partition, offset: String(offset) }),
          reject,
        });
        try {
          this.#producer.produce(
            topic.kafkaName,
            partition,
            record.value === null ? null : Buffer.from(record.value, 'utf8'),
            Buffer.from(record.key, 'utf8'),
            null,
            id,
            headersOf(record),
          );
        } catch (error) {
          this.#pending.delete(id);
          reject(error);
        }
      });
    });
    const settled = await Promise.allSettled(sends);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed !== undefined) throw kafkaError('publish', failed.reason);
    return settled.map((s) => (s as PromiseFulfilledResult<PublishAck>).value);
  }

  async close(): Promise<void> {
    await promised((done) => this.#producer.flush(5000, done)).catch(() => undefined);
    await promised((done) => this.#producer.disconnect(done)).catch(() => undefined);
    for (const pending of this.#pending.values()) pending.reject(new Error('the producer was closed'));
    this.#pending.clear();
  }
}
