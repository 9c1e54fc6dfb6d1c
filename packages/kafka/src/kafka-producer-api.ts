import type { OutgoingRecord, PublishAck } from '@sluice/core';
import type { KafkaTopic } from './kafka-topics.js';

/**
 * The transport's producer. Implementers own an idempotent acks=all producer and its connections; they check
 * each record's size, choose its partition with core's `partitionFor`, and resolve only when the broker
 * returned an offset for every record (else they reject with a retryable `SluiceError`).
 */
export interface KafkaProducerApi {
  /** Produces `records` (every topic in `topics`); resolves with their offsets in input order. */
  publish(records: readonly OutgoingRecord[], topics: ReadonlyMap<string, KafkaTopic>): Promise<PublishAck[]>;
  /** Waits for what is in flight, then disconnects. */
  close(): Promise<void>;
}
