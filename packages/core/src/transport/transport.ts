import type { TopicSpec } from '../contracts/define-topic.js';
import type { STRUCTURED_CONTENT_TYPE } from '../envelope/envelope.js';
import type { PartitionLag } from './partition-lag.js';
import type { ConsumedRecord, OutgoingRecord, PublishAck, SeekTarget, SubscribeOptions } from './records.js';
import type { Subscription } from './subscription.js';

/**
 * A transport moves records between the relay and consumers. Every adapter passes the conformance suite in
 * `@sluice/testing` against its real server.
 *
 * The transport owns: durability of what it acknowledged, order per key (a key always maps to one partition;
 * records of one partition are delivered in the order they were acknowledged), topic kinds (`message`
 * retention, `entity` latest value per key with tombstones), consumer groups and their committed positions,
 * and writing each record as its broker's CloudEvents binding says for structured mode (a record's value is
 * the whole event in JSON): Kafka and NATS add `content-type: application/cloudevents+json; charset=UTF-8`
 * ({@link STRUCTURED_CONTENT_TYPE}) unless the record brings its own `content-type`, and leave it out of the
 * consumed record's headers; stores with no binding document their layout in docs/cloudevents.md. The
 * conformance suite reads the stored records back through the official cloudevents SDK. It does not own
 * validation, retries or deduplication.
 */
export interface Transport {
  /** Short name for messages and metrics, e.g. `embedded-log`. */
  readonly name: string;

  /** Creates the topic if it is missing. Throws if it exists with another kind or partition count. */
  ensureTopic(spec: TopicSpec): Promise<void>;

  /**
   * Publishes records and resolves once every one is durable, in input order. Records of one key are stored
   * in the order given. Rejects with a `SluiceError` (`retryable` set) if any record was not stored; then
   * some earlier records of the batch may have been stored (the caller republishes; consumers de-duplicate).
   * Records for a topic that was never ensured are refused.
   */
  publish(records: readonly OutgoingRecord[]): Promise<PublishAck[]>;

  /** Joins a consumer group (or reads ephemerally). */
  subscribe(options: SubscribeOptions): Promise<Subscription>;

  /**
   * Moves a consumer group's committed position in `topic` (replay). Members already running keep their
   * fetch positions until their partitions are reassigned; run it while the group is stopped.
   */
  resetOffsets(group: string, topic: string, target: SeekTarget): Promise<void>;

  /**
   * How far `group` is behind in each partition of `topic`, one {@link PartitionLag} per partition in
   * partition order: its committed position, the partition's end and the records still to consume. Reads
   * only; works whether or not members of the group are running, and for a group that never existed (every
   * record counts). A topic that does not exist is refused with `SLUICE_UNKNOWN_TOPIC`.
   */
  lag(group: string, topic: string): Promise<readonly PartitionLag[]>;

  /** Reads records of a topic without a group, for tools (tail, dlq): up to `limit` from `target`. */
  read(topic: string, target: SeekTarget, limit: number): Promise<ConsumedRecord[]>;

  /** Releases connections; later calls fail with `SLUICE_CLOSED`. Idempotent. */
  close(): Promise<void>;
}
