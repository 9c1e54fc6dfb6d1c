import { randomUUID } from 'node:crypto';
import type { ConsumedRecord, SeekTarget } from '@sluice/core';
import type { KafkaAdminApi } from './kafka-admin-api.js';
import { newConsumer, promised, type RdKafka } from './kafka-client.js';
import { consumerConfig } from './kafka-consumer-config.js';
import { kafkaError, parseOffset } from './kafka-errors.js';
import type { ResolvedKafkaOptions } from './kafka-options.js';
import { consumedOf, deliverable } from './kafka-records.js';
import type { KafkaTopic } from './kafka-topics.js';

/**
 * `Transport.read`: lists the start and end offsets of the partitions (ListOffsets), assigns a short-lived
 * consumer without a group to those with records, and reads each to its end (or until `limit` records of an
 * `event`/`message` topic). Entity topics are read to the end and de-duplicated (latest record per key,
 * tombstones as null); message topics drop records older than the retention. In partition, then offset order.
 */
export async function readTopic(
  options: ResolvedKafkaOptions,
  admin: KafkaAdminApi,
  topic: KafkaTopic,
  target: SeekTarget,
  limit: number,
): Promise<ConsumedRecord[]> {
  if (limit <= 0) return [];
  const partitions =
    target.to === 'offset' ? [target.partition] : Array.from({ length: topic.partitions }, (_, i) => i);
  if (target.to === 'offset' && (target.partition < 0 || target.partition >= topic.partitions)) return [];
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
  const pending = new Map<number, number>();
  for (const p of partitions) {
    const start = starts.get(p) ?? 0;
    const end = ends.get(p) ?? 0;
    if (start < end) pending.set(p, end - 1);
  }
  if (pending.size === 0) return [];
  const consumer = newConsumer(consumerConfig(options, `sluice-read-${randomUUID()}`));
  const got: ConsumedRecord[] = [];
  try {
    await promised((done) => consumer.connect({ timeout: options.requestTimeoutMs }, done));
    consumer.assign(
      [...pending.keys()].map((partition) => ({
        topic: topic.kafkaName,
        partition,
        offset: starts.get(partition) ?? 0,
      })),
    );
    consumer.setDefaultConsumeTimeout(50);
    consumer.setDefaultIsTimeoutOnlyForFirstMessage(true);
    const deadline = Date.now() + options.requestTimeoutMs;
    const wholeTopic = topic.kind === 'entity';
    while (pending.size > 0 && Date.now() < deadline && (wholeTopic || got.length < limit)) {
      const messages = await promised<RdKafka.Message[]>((done) => consumer.consume(500, done));
      for (const m of messages) {
        const last = pending.get(m.partition);
        if (last === undefined) continue;
        got.push(...deliverable([consumedOf(m, topic)], new Map([[topic.name, topic]]), Date.now()));
        if (m.offset >= last) pending.delete(m.partition);
      }
    }
    if (pending.size > 0 && (wholeTopic || got.length < limit)) {
      throw new Error(
        `the end of ${pending.size} partition(s) was not reached within ${options.requestTimeoutMs} ms`,
      );
    }
  } catch (error) {
    throw kafkaError(`read of ${topic.name}`, error);
  } finally {
    await promised((done) => consumer.disconnect(done)).catch(() => undefined);
  }
  got.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
  return deliverable(got, new Map([[topic.name, topic]]), Date.now()).slice(0, limit);
}
