import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { Admin, Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';

const brokers = process.env['SLUICE_TEST_KAFKA_BROKERS'];
if (!brokers) {
  throw new Error('SLUICE_TEST_KAFKA_BROKERS is not set: run the tests with `npm test` (it starts Kafka)');
}

/**
 * The broker `scripts/services kafka` starts (Apache Kafka in KRaft mode, from Maven Central) is real and
 * durable enough for the transport: an idempotent producer with acks=all is acknowledged, a compacted topic can
 * be created, and a consumer group reads what was acknowledged, in order.
 */
describe('the Kafka broker of scripts/services', () => {
  it('with @platformatic/kafka: idempotent acks=all writes acknowledged with offsets, a group reads them in order', {
    timeout: 60_000,
  }, async () => {
    const bootstrapBrokers = brokers.split(',');
    const topic = `sluice-broker-check-js-${randomUUID().slice(0, 8)}`;
    const admin = new Admin({ clientId: 'sluice-check', bootstrapBrokers });
    try {
      await admin.createTopics({ topics: [topic], partitions: 2, replicas: 1 });
      await admin.createTopics({
        topics: [`${topic}-entity`],
        partitions: 1,
        replicas: 1,
        configs: [{ name: 'cleanup.policy', value: 'compact' }],
      });
      const producer = new Producer({
        clientId: 'sluice-check',
        bootstrapBrokers,
        idempotent: true,
        serializers: stringSerializers,
      });
      const sent = Array.from({ length: 20 }, (_, i) => ({ key: `k${i % 3}`, value: `v${i}` }));
      const result = await producer.send({ messages: sent.map((m) => ({ ...m, topic })), acks: -1 });
      assert.ok(
        (result.offsets ?? []).length > 0 && result.offsets!.every((o) => o.offset >= 0n),
        String(result.offsets),
      );
      await producer.close();

      const consumer = new Consumer({
        clientId: 'sluice-check',
        groupId: `${topic}-g`,
        bootstrapBrokers,
        deserializers: stringDeserializers,
      });
      const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: true });
      const got: { key: string; value: string }[] = [];
      for await (const message of stream) {
        got.push({ key: message.key, value: message.value });
        if (got.length >= sent.length) break;
      }
      await stream.close();
      await consumer.close();
      for (const key of ['k0', 'k1', 'k2']) {
        assert.deepEqual(
          got.filter((m) => m.key === key).map((m) => m.value),
          sent.filter((m) => m.key === key).map((m) => m.value),
          `order of ${key}`,
        );
      }
    } finally {
      await admin.deleteTopics({ topics: [topic, `${topic}-entity`] }).catch(() => undefined);
      await admin.close();
    }
  });
});
