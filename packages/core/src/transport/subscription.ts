import type { ConsumedRecord, PollOptions, SeekTarget, TopicPartition } from './records.js';

/**
 * One member's view of a consumer group.
 *
 * The transport owns: group membership and heartbeats, assigning partitions among live members (a dead
 * member's partitions move to the others), fetch positions, durable committed positions, and waking a waiting
 * `poll` promptly when records arrive. It does not own retries, ordering across keys, dead letters or
 * deduplication: those are the consumer runtime's job.
 */
export interface Subscription {
  /**
   * Returns the next records of the partitions currently assigned to this member, in offset order within each
   * partition, waiting up to `maxWaitMs` when none are ready. Returns `[]` on timeout or abort. Advances only
   * this member's in-memory fetch position, never the committed one.
   */
  poll(options: PollOptions): Promise<ConsumedRecord[]>;

  /**
   * Durably records, for each given record's partition, that the group is done with that record and every one
   * before it. Positions of partitions no longer assigned to this member are ignored.
   */
  commit(records: readonly ConsumedRecord[]): Promise<void>;

  /** The partitions assigned to this member as of the last `poll`. */
  assignment(): readonly TopicPartition[];

  /** Moves this member's fetch position in its assigned partitions of `topic`; the next poll reads from there. */
  seek(topic: string, target: SeekTarget): Promise<void>;

  /** Leaves the group (its partitions go to the other members) and releases resources. Idempotent. */
  close(): Promise<void>;
}
