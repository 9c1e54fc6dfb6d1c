import { KafkaAdmin } from './kafka-admin.js';
import { newConsumer, promised, type RdKafka } from './kafka-client.js';
import { consumerConfig } from './kafka-consumer-config.js';
import type { KafkaDriver } from './kafka-driver.js';
import type { ResolvedKafkaOptions } from './kafka-options.js';
import { KafkaProducer } from './kafka-producer.js';
import { readTopic } from './kafka-read.js';
import { KafkaSubscription } from './kafka-subscription.js';

/** The {@link KafkaDriver} on `@confluentinc/kafka-javascript` (librdkafka, a native addon). */
export async function openKafkaNativeDriver(options: ResolvedKafkaOptions): Promise<KafkaDriver> {
  const admin = new KafkaAdmin(options);
  let producer: KafkaProducer;
  try {
    producer = await KafkaProducer.connect(options);
  } catch (error) {
    await admin.close();
    throw error;
  }
  return {
    admin,
    producer,
    async subscribe(topics, spec, onClose) {
      const extra: Record<string, string | number | boolean> = {
        'partition.assignment.strategy': 'cooperative-sticky',
        'session.timeout.ms': options.sessionTimeoutMs,
        'heartbeat.interval.ms': options.heartbeatIntervalMs,
        rebalance_cb: true,
      };
      if (spec.staticMemberId !== undefined) extra['group.instance.id'] = spec.staticMemberId;
      const consumer = newConsumer(consumerConfig(options, spec.group, extra), {
        'auto.offset.reset': spec.startFrom,
      });
      try {
        await promised((done) => consumer.connect({ timeout: options.requestTimeoutMs }, done));
        if (spec.ephemeral) {
          const assignment: RdKafka.Assignment[] = [];
          for (const topic of topics) {
            const partitions = Array.from({ length: topic.partitions }, (_, i) => i);
            const offsets = await admin.offsets(topic.kafkaName, partitions, spec.startFrom);
            for (const partition of partitions) {
              assignment.push({ topic: topic.kafkaName, partition, offset: offsets.get(partition) ?? 0 });
            }
          }
          consumer.assign(assignment);
        } else {
          consumer.subscribe(topics.map((t) => t.kafkaName));
        }
      } catch (error) {
        await promised((done) => consumer.disconnect(done)).catch(() => undefined);
        throw error;
      }
      return new KafkaSubscription(consumer, topics, admin, spec.ephemeral, onClose);
    },
    async commitGroupOffsets(group, kafkaName, offsets) {
      // A consumer of the group that assigns nothing and commits explicit offsets.
      const consumer = newConsumer(consumerConfig(options, group));
      try {
        await promised((done) => consumer.connect({ timeout: options.requestTimeoutMs }, done));
        await promised<void>((done) =>
          consumer.commitCb(
            [...offsets].map(([partition, offset]) => ({ topic: kafkaName, partition, offset })),
            done,
          ),
        );
      } finally {
        await promised((done) => consumer.disconnect(done)).catch(() => undefined);
      }
    },
    read: (topic, target, limit) => readTopic(options, admin, topic, target, limit),
    async close() {
      await producer.close();
      await admin.close();
    },
  };
}
