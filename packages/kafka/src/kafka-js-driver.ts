import { Consumer } from '@platformatic/kafka';
import type { KafkaDriver } from './kafka-driver.js';
import { KafkaJsAdmin } from './kafka-js-admin.js';
import { clientOptions } from './kafka-js-client.js';
import { KafkaJsProducer } from './kafka-js-producer.js';
import { readTopicJs } from './kafka-js-read.js';
import { KafkaJsSubscription } from './kafka-js-subscription.js';
import type { ResolvedKafkaOptions } from './kafka-options.js';

/** The {@link KafkaDriver} on `@platformatic/kafka` (pure JavaScript). */
export async function openKafkaJsDriver(options: ResolvedKafkaOptions): Promise<KafkaDriver> {
  const admin = new KafkaJsAdmin(options);
  let producer: KafkaJsProducer;
  try {
    producer = await KafkaJsProducer.connect(options);
  } catch (error) {
    await admin.close();
    throw error;
  }
  return {
    admin,
    producer,
    subscribe: (topics, spec, onClose) =>
      KafkaJsSubscription.open(
        options,
        topics,
        admin,
        {
          group: spec.group,
          ephemeral: spec.ephemeral,
          startFrom: spec.startFrom,
          staysOnClose: spec.staticMemberId !== undefined,
        },
        onClose,
      ),
    async commitGroupOffsets(group, kafkaName, offsets) {
      // A commit outside any generation (-1, no member id), as `kafka-consumer-groups --reset-offsets` sends.
      const consumer = new Consumer({ ...clientOptions(options), groupId: group });
      consumer.generationId = -1;
      consumer.memberId = '';
      try {
        await consumer.commit({
          offsets: [...offsets].map(([partition, offset]) => ({
            topic: kafkaName,
            partition,
            offset: BigInt(offset),
            leaderEpoch: -1,
          })),
        });
      } finally {
        await consumer.close().catch(() => undefined);
      }
    },
    async committedOffsets(group, kafkaName, partitions) {
      // OffsetFetch as a client outside the group: it never joins, so the group's members are undisturbed.
      const consumer = new Consumer({ ...clientOptions(options), groupId: group });
      consumer.memberId = '';
      try {
        const listed = await consumer.listCommittedOffsets({
          topics: [{ topic: kafkaName, partitions: [...partitions] }],
        });
        const all = listed.get(kafkaName) ?? [];
        return partitions.map((p) => {
          const offset = all[p];
          return offset === undefined || offset < 0n ? undefined : Number(offset);
        });
      } finally {
        await consumer.close().catch(() => undefined);
      }
    },
    read: (topic, target, limit) => readTopicJs(options, admin, topic, target, limit),
    async close() {
      await producer.close();
      await admin.close();
    },
  };
}
