import type { TopicPartition } from '../records.js';

import type { AssignableMember } from './assignable-member.js';

/**
 * Splits partitions among members, the same way in every process: all partitions of the members' topics,
 * sorted by topic then partition, are dealt round-robin to the members sorted by id, skipping members not
 * subscribed to that topic (Kafka's round-robin assignor). Returns the partitions of `memberId`. Transports
 * whose brokers do not assign partitions themselves (the embedded log, NATS JetStream, Redis Streams) use it, so
 * a group splits alike on each. Whole partitions go to a member, never single records: order per key holds.
 *
 * `partitionsOf` returns a topic's partition count, or `undefined` for a topic that does not exist.
 */
export function assignPartitions(
  members: readonly AssignableMember[],
  partitionsOf: (topic: string) => number | undefined,
  memberId: string,
): TopicPartition[] {
  const sorted = [...members].sort((a, b) =>
    a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0,
  );
  const topics = [...new Set(sorted.flatMap((m) => [...m.topics]))].sort();
  const mine: TopicPartition[] = [];
  let next = 0;
  for (const topic of topics) {
    const count = partitionsOf(topic) ?? 0;
    for (let partition = 0; partition < count; partition++) {
      for (let tries = 0; tries < sorted.length; tries++) {
        const member = sorted[next % sorted.length]!;
        next++;
        if (!member.topics.has(topic)) continue;
        if (member.memberId === memberId) mine.push({ topic, partition });
        break;
      }
    }
  }
  return mine;
}
