import type { Consumer } from '@platformatic/kafka';
import type { ConsumedRecord } from '@sluice/core';
import { consumedHeaders } from './kafka-records.js';
import type { KafkaTopic } from './kafka-topics.js';

/** A batch attribute: the broker stamped its records (`LogAppendTime`); `maxTimestamp` is their time. */
const LOG_APPEND_TIME = 0x08;
/** A batch attribute: transaction markers, never delivered. */
const CONTROL = 0x20;

/** `topic\0partition` of a Kafka topic name and partition. */
export const partitionKey = (kafkaName: string, partition: number): string =>
  `${kafkaName}\u0000${partition}`;

/**
 * Fetch positions of a set of partitions and the Fetch requests that advance them, over a
 * `@platformatic/kafka` `Consumer` (its `fetch` sends one Fetch request to one broker). The next offset of a
 * partition moves only when a response for the offset it asked for arrives, so a response that a seek or a
 * rebalance made stale is dropped.
 */
export class KafkaJsFetcher {
  readonly #consumer: Consumer;
  readonly #byKafkaName: ReadonlyMap<string, KafkaTopic>;
  /** Next offset to fetch of each partition fetched, by {@link partitionKey}. */
  readonly positions = new Map<string, number>();

  constructor(consumer: Consumer, topics: readonly KafkaTopic[]) {
    this.#consumer = consumer;
    this.#byKafkaName = new Map(topics.map((t) => [t.kafkaName, t]));
  }

  /** One Fetch per partition leader, waiting at most `waitMs` for a first record; the records, in order. */
  async fetch(waitMs: number): Promise<ConsumedRecord[]> {
    if (this.positions.size === 0) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(waitMs, 50)));
      return [];
    }
    const names = [...new Set([...this.positions.keys()].map((k) => k.slice(0, k.indexOf('\u0000'))))];
    const metadata = await this.#consumer.metadata({ topics: names });
    const byLeader = new Map<number, Map<string, { partition: number; offset: number }[]>>();
    const requested = new Map<string, number>();
    for (const [key, offset] of this.positions) {
      const at = key.indexOf('\u0000');
      const name = key.slice(0, at);
      const partition = Number(key.slice(at + 1));
      const topic = metadata.topics.get(name);
      const leader = topic?.partitions[partition]?.leader;
      if (topic === undefined || leader === undefined || leader < 0) continue;
      const forLeader = byLeader.get(leader) ?? new Map();
      byLeader.set(leader, forLeader);
      const list = forLeader.get(topic.id) ?? [];
      forLeader.set(topic.id, list);
      list.push({ partition, offset });
      requested.set(key, offset);
    }
    const idToName = new Map([...metadata.topics].map(([name, t]) => [t.id, name]));
    const responses = await Promise.all(
      [...byLeader].map(([node, topics]) =>
        this.#consumer.fetch({
          node,
          maxWaitTime: Math.max(0, Math.round(waitMs)),
          minBytes: 1,
          maxBytes: 4 * 1024 * 1024,
          topics: [...topics].map(([topicId, partitions]) => ({
            topicId,
            partitions: partitions.map((p) => ({
              partition: p.partition,
              fetchOffset: BigInt(p.offset),
              partitionMaxBytes: 1024 * 1024 + 64 * 1024,
              currentLeaderEpoch: -1,
              lastFetchedEpoch: -1,
            })),
          })),
        }),
      ),
    );
    const out: ConsumedRecord[] = [];
    for (const response of responses) {
      for (const t of response.responses) {
        const name = idToName.get(t.topicId);
        const topic = name === undefined ? undefined : this.#byKafkaName.get(name);
        if (name === undefined || topic === undefined) continue;
        for (const p of t.partitions) {
          const key = partitionKey(name, p.partitionIndex);
          const from = requested.get(key);
          // A seek or a rebalance moved the partition while the request was out: drop what it brought.
          if (from === undefined || this.positions.get(key) !== from) continue;
          let next = from;
          for (const batch of p.records ?? []) {
            const last = Number(batch.firstOffset) + batch.lastOffsetDelta;
            if (last + 1 > next) next = last + 1;
            if ((batch.attributes & CONTROL) !== 0) continue;
            for (const record of batch.records) {
              const offset = Number(batch.firstOffset) + record.offsetDelta;
              if (offset < from) continue;
              const timestamp =
                (batch.attributes & LOG_APPEND_TIME) !== 0
                  ? Number(batch.maxTimestamp)
                  : Number(batch.firstTimestamp + record.timestampDelta);
              const headers = consumedHeaders(record.headers);
              out.push({
                topic: topic.name,
                partition: p.partitionIndex,
                offset: String(offset),
                key: record.key?.toString('utf8') ?? '',
                value: record.value === null ? null : record.value.toString('utf8'),
                headers,
                timestamp,
              });
            }
          }
          this.positions.set(key, next);
        }
      }
    }
    return out;
  }
}
