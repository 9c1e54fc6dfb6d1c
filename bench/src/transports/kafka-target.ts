import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { BenchTarget } from './bench-target.js';
import type { RawClient } from './raw-client.js';
import { serviceUrl } from './service-url.js';

/** The few calls of `@platformatic/kafka` the raw baseline makes (its types resolve only from `@sluice/kafka`). */
interface PlatformaticKafka {
  Admin: new (options: {
    clientId: string;
    bootstrapBrokers: string[];
  }) => {
    createTopics(options: { topics: string[]; partitions: number; replicas: number }): Promise<unknown>;
    deleteTopics(options: { topics: string[] }): Promise<void>;
    close(): Promise<void>;
  };
  Producer: new (options: {
    clientId: string;
    bootstrapBrokers: string[];
    idempotent: boolean;
  }) => {
    send(options: { acks: number; messages: PlatformaticMessage[] }): Promise<unknown>;
    close(): Promise<void>;
  };
  Consumer: new (options: {
    clientId: string;
    groupId: string;
    bootstrapBrokers: string[];
  }) => {
    consume(options: {
      topics: string[];
      mode: 'earliest';
      autocommit: boolean;
      maxWaitTime: number;
    }): Promise<AsyncIterable<{ value: Buffer }> & { close(): Promise<void> }>;
    close(): Promise<void>;
  };
}

interface PlatformaticMessage {
  topic: string;
  key: Buffer;
  value: Buffer;
  partition: number;
  headers: Map<Buffer, Buffer>;
}

/** `@platformatic/kafka`, the client of `@sluice/kafka`, resolved from where that package is installed. */
async function platformaticKafka(): Promise<PlatformaticKafka> {
  const fromSluiceKafka = createRequire(createRequire(import.meta.url).resolve('@sluice/kafka'));
  const entry = fromSluiceKafka.resolve('@platformatic/kafka');
  return (await import(pathToFileURL(entry).href)) as PlatformaticKafka;
}

/**
 * Kafka (scripts/services' KRaft broker). Raw baseline on `@platformatic/kafka`, the client `@sluice/kafka`
 * depends on: an idempotent producer with acks=all (the settings
 * Sluice uses), `send` of 1000-record batches one at a time with explicit partitions (the client advances a
 * partition's sequence numbers only when a response arrives, so concurrent sends of one idempotent producer
 * would reuse them); a consumer group stream reading from the beginning, each value parsed (JSON.parse),
 * offsets auto-committed.
 */
export const kafkaTarget: BenchTarget = {
  kind: 'kafka',
  name: 'kafka',
  url: () => `kafka://${serviceUrl('kafka', 'SLUICE_TEST_KAFKA_BROKERS')}`,
  openRaw: openRawKafka,
};

async function openRawKafka(namespace: string, partitions: number): Promise<RawClient> {
  const { Admin, Consumer, Producer } = await platformaticKafka();
  const bootstrapBrokers = kafkaTarget
    .url()
    .replace(/^kafka:\/\//, '')
    .split(',');
  const topic = `${namespace}.raw`;
  const admin = new Admin({ clientId: 'bench-raw', bootstrapBrokers });
  await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
  const producer = new Producer({ clientId: 'bench-raw', bootstrapBrokers, idempotent: true });
  return {
    async publish(records) {
      for (let i = 0; i < records.length; i += 1000) {
        await producer.send({
          acks: -1,
          messages: records.slice(i, i + 1000).map((r) => ({
            topic,
            key: Buffer.from(r.key),
            value: Buffer.from(r.value),
            partition: r.partition,
            headers: new Map([[Buffer.from('id'), Buffer.from(r.id)]]),
          })),
        });
      }
    },
    async consume(count) {
      const consumer = new Consumer({ clientId: 'bench-raw', groupId: `${namespace}.raw`, bootstrapBrokers });
      const stream = await consumer.consume({
        topics: [topic],
        mode: 'earliest',
        autocommit: true,
        maxWaitTime: 100,
      });
      let n = 0;
      let firstAt = 0;
      for await (const message of stream) {
        if (firstAt === 0) firstAt = performance.now();
        JSON.parse(message.value.toString('utf8'));
        if (++n >= count) break;
      }
      await stream.close();
      await consumer.close();
      return firstAt;
    },
    async close() {
      await producer.close();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.close();
    },
  };
}
