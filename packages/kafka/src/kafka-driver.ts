import type { ConsumedRecord, SeekTarget, Subscription } from '@sluice/core';
import type { KafkaAdminApi } from './kafka-admin-api.js';
import type { KafkaProducerApi } from './kafka-producer-api.js';
import type { KafkaTopic } from './kafka-topics.js';

/** What a subscription is: a group member, or an ephemeral reader of every partition. */
export interface KafkaSubscribeSpec {
  /** The Kafka group id (namespaced; a random one for an ephemeral reader). */
  readonly group: string;
  /** Assign every partition, join no group, commit nothing. */
  readonly ephemeral: boolean;
  /** Where partitions without a committed offset start. */
  readonly startFrom: 'earliest' | 'latest';
  /** With `staticMembership`: the member's instance id; closing then sends no LeaveGroup. */
  readonly staticMemberId: string | undefined;
}

/** A subscription the transport can close when it closes. */
export type KafkaDriverSubscription = Subscription & { close(): Promise<void> };

/**
 * The Kafka client library behind the transport (`@platformatic/kafka`). Implementers own the
 * library's clients and connections: an admin client, one idempotent acks=all producer, a consumer per
 * subscription and per `read`. The transport owns topic bookkeeping, naming and validation; the driver owns
 * how the wire works, and it must keep the transport's guarantees (acknowledged means stored, per-key order,
 * commits of delivered offsets only).
 */
export interface KafkaDriver {
  readonly admin: KafkaAdminApi;
  readonly producer: KafkaProducerApi;
  /** Opens a group member (or ephemeral reader) of `topics`; `onClose` runs once it closed. */
  subscribe(
    topics: readonly KafkaTopic[],
    spec: KafkaSubscribeSpec,
    onClose: (sub: KafkaDriverSubscription) => void,
  ): Promise<KafkaDriverSubscription>;
  /** Commits `offsets` (partition → next offset) of `kafkaName` for a group with no live members. */
  commitGroupOffsets(group: string, kafkaName: string, offsets: ReadonlyMap<number, number>): Promise<void>;
  /**
   * A group's committed offsets (partition → next offset, `undefined` where it never committed) in
   * `kafkaName` (OffsetFetch, without joining the group).
   */
  committedOffsets(
    group: string,
    kafkaName: string,
    partitions: readonly number[],
  ): Promise<(number | undefined)[]>;
  /** `Transport.read` of one topic. */
  read(topic: KafkaTopic, target: SeekTarget, limit: number): Promise<ConsumedRecord[]>;
  /** Closes the producer and the admin client (subscriptions are closed by the transport first). */
  close(): Promise<void>;
}
