/**
 * How far a consumer group is behind in one partition of a topic, as {@link Transport.lag} answers it (like
 * `kafka-consumer-groups --describe`).
 *
 * The implementer owns: reading the group's committed position and the partition's end from its server, and
 * counting the records between them exactly. On a quiet topic (no publish, commit or sweep running) `lag` is
 * exact; while records arrive or the group commits, each partition's three fields are read close together but
 * not atomically, so `lag` may be a few records stale, never negative. "Records" are the ones the partition
 * still holds: records that retention (`message` topics), compaction or replacement (`entity` topics: a newer
 * record of the key deletes the older) or tombstone expiry removed are not counted, so `lag` can be less than
 * `end - committed`. A transport that cannot count what such removal left (Kafka, whose compaction leaves
 * offsets without records) reports the offset distance instead, an upper bound, and says so in its README.
 *
 * It does not own: what the group does next, nor members' uncommitted fetch positions (a running member may
 * have read past `committed`; only commits count).
 */
export interface PartitionLag {
  /** The partition, 0 to the topic's partition count - 1. */
  readonly partition: number;
  /**
   * The group's committed position in the partition, a decimal string: the offset of the next record it
   * reads. `null` if the group never committed (nor was reset) there.
   */
  readonly committed: string | null;
  /** The offset the next record published to the partition will get, a decimal string. */
  readonly end: string;
  /**
   * The records the partition holds at or after `committed` (every record it holds when `committed` is
   * `null`): what the group still has to consume there. 0 when it is caught up.
   */
  readonly lag: number;
}
