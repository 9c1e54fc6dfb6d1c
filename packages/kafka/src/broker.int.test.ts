import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { KafkaJS } from '@confluentinc/kafka-javascript';

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
  it('creates topics, acknowledges idempotent acks=all writes, and serves them to a group in order', {
    timeout: 60_000,
  }, async () => {
    const kafka = new KafkaJS.Kafka({ kafkaJS: { brokers: brokers.split(','), logLevel: 0 } });
    const topic = `sluice-broker-check-${randomUUID().slice(0, 8)}`;
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [
          { topic, numPartitions: 2 },
          {
            topic: `${topic}-entity`,
            numPartitions: 1,
            configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
          },
        ],
      });
      const producer = kafka.producer({ kafkaJS: { idempotent: true, acks: -1 } });
      await producer.connect();
      const sent = Array.from({ length: 20 }, (_, i) => ({ key: `k${i % 3}`, value: `v${i}` }));
      // (the client turns the messages it is given into Buffers: send copies)
      const acks = await producer.send({ topic, messages: sent.map((m) => ({ ...m })) });
      assert.ok(acks.length > 0 && acks.every((a) => a.errorCode === 0), JSON.stringify(acks));
      await producer.disconnect();

      const consumer = kafka.consumer({ kafkaJS: { groupId: `${topic}-g`, fromBeginning: true } });
      await consumer.connect();
      await consumer.subscribe({ topics: [topic] });
      const got: { key: string; value: string }[] = [];
      await consumer.run({
        eachMessage: async ({ message }) => {
          got.push({ key: String(message.key), value: String(message.value) });
        },
      });
      const deadline = Date.now() + 30_000;
      while (got.length < sent.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await consumer.disconnect();
      assert.equal(got.length, sent.length);
      for (const key of ['k0', 'k1', 'k2']) {
        assert.deepEqual(
          got.filter((m) => m.key === key).map((m) => m.value),
          sent.filter((m) => m.key === key).map((m) => m.value),
          `order of ${key}`,
        );
      }
    } finally {
      await admin.deleteTopics({ topics: [topic, `${topic}-entity`] }).catch(() => undefined);
      await admin.disconnect();
    }
  });
});
