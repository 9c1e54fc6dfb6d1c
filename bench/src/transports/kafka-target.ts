import { KafkaJS } from '@confluentinc/kafka-javascript';
import type { BenchTarget } from './bench-target.js';
import { publishWindow } from './publish-window.js';
import type { RawClient } from './raw-client.js';
import { serviceUrl } from './service-url.js';

/**
 * Kafka (scripts/services' KRaft broker). Raw baseline: an idempotent producer with acks=all (the settings
 * Sluice uses), `send` of 500-record batches with up to 8 outstanding, explicit partitions; a consumer group
 * reading with `eachBatch` from the beginning, each value parsed (JSON.parse), offsets auto-committed.
 */
export const kafkaTarget: BenchTarget = {
  kind: 'kafka',
  name: 'kafka',
  env: { SLUICE_KAFKA_CLIENT: 'javascript' },
  url: () => `kafka://${serviceUrl('kafka', 'SLUICE_TEST_KAFKA_BROKERS')}`,
  openRaw: openRawKafka,
};

/** Sluice's Kafka transport on librdkafka (`client: 'native'`), against the same raw baseline. */
export const kafkaNativeTarget: BenchTarget = {
  ...kafkaTarget,
  name: 'kafka-native',
  env: { SLUICE_KAFKA_CLIENT: 'native' },
};

async function openRawKafka(namespace: string, partitions: number): Promise<RawClient> {
  const brokers = kafkaTarget
    .url()
    .replace(/^kafka:\/\//, '')
    .split(',');
  const kafka = new KafkaJS.Kafka({ kafkaJS: { brokers, logLevel: KafkaJS.logLevel.NOTHING } });
  const topic = `${namespace}.raw`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }] });
  const producer = kafka.producer({ kafkaJS: { idempotent: true, acks: -1 }, 'linger.ms': 5 });
  await producer.connect();
  return {
    async publish(records) {
      const batches: (typeof records)[] = [];
      for (let i = 0; i < records.length; i += 500) batches.push(records.slice(i, i + 500));
      await publishWindow(batches, 8, (batch) =>
        producer.send({
          topic,
          messages: batch.map((r) => ({
            key: r.key,
            value: r.value,
            partition: r.partition,
            headers: { id: r.id },
          })),
        }),
      );
    },
    async consume(count) {
      const consumer = kafka.consumer({
        kafkaJS: { groupId: `${namespace}.raw`, fromBeginning: true },
        'js.consumer.max.batch.size': -1,
      });
      await consumer.connect();
      await consumer.subscribe({ topics: [topic] });
      let n = 0;
      let firstAt = 0;
      let done!: () => void;
      const finished = new Promise<void>((resolve) => {
        done = resolve;
      });
      await consumer.run({
        eachBatch: async ({ batch }) => {
          if (firstAt === 0 && batch.messages.length > 0) firstAt = performance.now();
          for (const m of batch.messages) JSON.parse(m.value!.toString('utf8'));
          n += batch.messages.length;
          if (n >= count) done();
        },
      });
      await finished;
      await consumer.disconnect();
      return firstAt;
    },
    async close() {
      await producer.disconnect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    },
  };
}
