import { type OutgoingRecord, PayloadTooLargeError, type PublishAck } from '@sluice/core';
import { partitionFor } from '@sluice/core/adapter';
import { promised, type RdKafka, rdkafka } from './kafka-client.js';
import { KAFKA_NAME, kafkaError, unconfirmedError } from './kafka-errors.js';
import type { ResolvedKafkaOptions } from './kafka-options.js';
import type { KafkaProducerApi } from './kafka-producer-api.js';
import { headersOf, sizeOf } from './kafka-records.js';
import type { KafkaTopic } from './kafka-topics.js';

/** One `publish` call in flight: its records' delivery reports are counted against it, with no per-record promise. */
interface InFlight {
  /** Delivery-report id of the first record; the batch's records have ids `first` to `first + count - 1`. */
  readonly first: number;
  readonly count: number;
  readonly offsets: number[];
  remaining: number;
  error: unknown;
  /** Records reported delivered without an offset: librdkafka did not see the broker store them. */
  unconfirmed: number;
  readonly settle: () => void;
}

/**
 * The idempotent producer: `enable.idempotence=true`, `acks=all`, `max.in.flight.requests.per.connection=5`.
 * The broker acknowledges a record once every in-sync replica has it; the producer's sequence numbers let it
 * retry without duplicates and keep order per partition with up to 5 requests in flight. The partition is
 * chosen here with core's `partitionFor`, so every transport maps a key to the same partition.
 *
 * A record counts as stored only when its delivery report carries the offset the broker gave it. librdkafka
 * also reports success without an offset: for a batch the broker answered DUPLICATE_SEQUENCE_NUMBER, and for
 * the records of an earlier request that failed when a later request of the same partition succeeds (its
 * "implicit acknowledgement", which assumes the broker would have refused the later request out of sequence).
 * That assumption fails where the broker holds no state for this producer on the partition (a partition new
 * to it, or one whose producer state expired): the broker then accepts any sequence, so a first request
 * refused with a retriable error (NOT_LEADER_OR_FOLLOWER while a new partition's leader starts,
 * CORRUPT_MESSAGE) is reported delivered when the second one succeeds, and its records are lost. Such a
 * publish is therefore refused with a retryable `SLUICE_PUBLISH_UNCONFIRMED`: the caller publishes again,
 * at least once (consumers' inboxes skip a record stored twice).
 */
export class KafkaProducer implements KafkaProducerApi {
  readonly #producer: RdKafka.Producer;
  readonly #options: ResolvedKafkaOptions;
  /** Batches waiting for delivery reports, oldest first (a few at most). */
  #inFlight: InFlight[] = [];
  #next = 0;

  private constructor(producer: RdKafka.Producer, options: ResolvedKafkaOptions) {
    this.#producer = producer;
    this.#options = options;
    producer.on('delivery-report', (err, report) => {
      const id = report.opaque as number;
      const batch = this.#inFlight.find((b) => id >= b.first && id < b.first + b.count);
      if (batch === undefined) return;
      if (err) batch.error ??= err;
      else if (!(report.offset >= 0)) batch.unconfirmed++;
      else batch.offsets[id - batch.first] = report.offset;
      if (--batch.remaining === 0) batch.settle();
    });
  }

  static async connect(options: ResolvedKafkaOptions): Promise<KafkaProducer> {
    // Troubleshooting: SLUICE_KAFKA_DEBUG=eos,msg,protocol (librdkafka's debug contexts) writes the producer's
    // debug log to stderr.
    const debug = process.env['SLUICE_KAFKA_DEBUG'] || undefined;
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
      log_level: debug ? 7 : 0,
      ...(debug ? { debug, event_cb: true } : {}),
    } as RdKafka.ProducerGlobalConfig);
    if (debug) {
      producer.on('event.log', (log: { message: string; fac: string }) =>
        process.stderr.write(`${new Date().toISOString()} librdkafka ${log.fac} ${log.message}\n`),
      );
    }
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
    const partitions = records.map((record) =>
      partitionFor(record.key, topics.get(record.topic)!.partitions),
    );
    const first = this.#next;
    this.#next += records.length;
    let settle!: () => void;
    const done = new Promise<void>((resolve) => {
      settle = resolve;
    });
    const batch: InFlight = {
      first,
      count: records.length,
      offsets: new Array<number>(records.length),
      remaining: records.length,
      error: undefined,
      unconfirmed: 0,
      settle: () => {
        this.#inFlight = this.#inFlight.filter((b) => b !== batch);
        settle();
      },
    };
    if (records.length === 0) return [];
    this.#inFlight.push(batch);
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      try {
        this.#producer.produce(
          topics.get(record.topic)!.kafkaName,
          partitions[i]!,
          record.value === null ? null : Buffer.from(record.value, 'utf8'),
          record.key,
          null,
          first + i,
          headersOf(record),
        );
      } catch (error) {
        // Not queued (the local queue is full, the producer failed): this record gets no report.
        batch.error ??= error;
        if (--batch.remaining === 0) batch.settle();
      }
    }
    await done;
    if (batch.error !== undefined) throw kafkaError('publish', batch.error);
    if (batch.unconfirmed > 0) throw unconfirmedError(batch.unconfirmed, records.length);
    return records.map((record, i) => ({
      topic: record.topic,
      partition: partitions[i]!,
      offset: String(batch.offsets[i]),
    }));
  }

  async close(): Promise<void> {
    await promised((done) => this.#producer.flush(5000, done)).catch(() => undefined);
    await promised((done) => this.#producer.disconnect(done)).catch(() => undefined);
    for (const batch of this.#inFlight) {
      batch.error ??= new Error('the producer was closed');
      batch.settle();
    }
    this.#inFlight = [];
  }
}
