import { randomUUID } from 'node:crypto';
import { Consumer } from '@platformatic/kafka';
import type { ConsumedRecord, SeekTarget } from '@sluice/core';
import type { KafkaAdminApi } from './kafka-admin-api.js';
import { kafkaError, parseOffset } from './kafka-errors.js';
import { clientOptions } from './kafka-js-client.js';
import { KafkaJsFetcher, partitionKey } from './kafka-js-fetch.js';
import type { ResolvedKafkaOptions } from './kafka-options.js';
import { deliverable } from './kafka-records.js';
import type { KafkaTopic } from './kafka-topics.js';

/**
 * `Transport.read` on `@platformatic/kafka`: lists the start and end offsets of the partitions (ListOffsets),
 * then fetches those with records from their start to their end (or until `limit` records of an
 * `event`/`message` topic) with a short-lived consumer that joins no group. Entity topics are read to the end
 * and de-duplicated (latest record per key, tombstones as null); message topics drop records older than the
 * retention. In partition, then offset order.
 */
export async function readTopicJs(
  options: ResolvedKafkaOptions,
  admin: KafkaAdminApi,
  topic: KafkaTopic,
  target: SeekTarget,
  limit: number,
): Promise<ConsumedRecord[]> {
  if (limit <= 0) return [];
  if (target.to === 'offset' && (target.partition < 0 || target.partition >= topic.partitions)) return [];
  const partitions =
    target.to === 'offset' ? [target.partition] : Array.from({ length: topic.partitions }, (_, i) => i);
  let starts: Map<number, number>;
  let ends: Map<number, number>;
  try {
    ends = await admin.offsets(topic.kafkaName, partitions, 'latest');
    starts =
      target.to === 'offset'
        ? new Map([[target.partition, parseOffset(target.offset)]])
        : await admin.offsets(
            topic.kafkaName,
            partitions,
            target.to === 'time' ? { time: target.time } : target.to,
          );
  } catch (error) {
    throw kafkaError(`read of ${topic.name}`, error);
  }
  const consumer = new Consumer({ ...clientOptions(options), groupId: `sluice-read-${randomUUID()}` });
  const fetcher = new KafkaJsFetcher(consumer, [topic]);
  const ends2 = new Map<string, number>();
  for (const p of partitions) {
    const start = starts.get(p) ?? 0;
    const end = ends.get(p) ?? 0;
    if (start >= end) continue;
    fetcher.positions.set(partitionKey(topic.kafkaName, p), start);
    ends2.set(partitionKey(topic.kafkaName, p), end);
  }
  const got: ConsumedRecord[] = [];
  const only = new Map([[topic.name, topic]]);
  const wholeTopic = topic.kind === 'entity';
  try {
    const deadline = Date.now() + options.requestTimeoutMs;
    while (fetcher.positions.size > 0 && Date.now() < deadline && (wholeTopic || got.length < limit)) {
      got.push(...deliverable(await fetcher.fetch(50), only, Date.now()));
      for (const [key, end] of ends2) {
        if ((fetcher.positions.get(key) ?? end) >= end) fetcher.positions.delete(key);
      }
    }
    if (fetcher.positions.size > 0 && (wholeTopic || got.length < limit)) {
      throw new Error(
        `the end of ${fetcher.positions.size} partition(s) was not reached within ${options.requestTimeoutMs} ms`,
      );
    }
  } catch (error) {
    throw kafkaError(`read of ${topic.name}`, error);
  } finally {
    await consumer.close().catch(() => undefined);
  }
  const inRange = got.filter((r) => Number(r.offset) < (ends.get(r.partition) ?? 0));
  inRange.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
  return deliverable(inRange, only, Date.now()).slice(0, limit);
}
