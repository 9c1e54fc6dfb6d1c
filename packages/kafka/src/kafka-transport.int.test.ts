import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { partitionFor } from '@sluice/core';
import { runTransportConformance } from '@sluice/testing';
import { deleteNamespace, freshNamespace, testBrokerUrl } from './kafka.test-support.js';
import { describeTopicConfigs } from './kafka-describe-configs.js';
import type { KafkaTransportOptions } from './kafka-options.js';
import { createKafkaTransport, type KafkaTransport } from './kafka-transport.js';

const url = testBrokerUrl();
// The broker's group.min.session.timeout.ms is Kafka's default, 6000 ms.
const sessionTimeoutMs = 6000;
const maxPayloadBytes = 1_000_000;

runTransportConformance(
  'kafka',
  async () => {
    const namespace = freshNamespace();
    const open = (extra: { staticMembership?: boolean } = {}) =>
      createKafkaTransport({ url, namespace, sessionTimeoutMs, maxPayloadBytes, ...extra });
    return {
      transport: await open(),
      reopen: () => open(),
      // The crash case's other process: static members (KIP-345) send no LeaveGroup when their client goes
      // away, so the coordinator sees a member that stopped heartbeating.
      connect: () => open({ staticMembership: true }),
      crash: (t) => (t as KafkaTransport).abandon(),
      cleanup: () => deleteNamespace(url, namespace),
    };
  },
  { sessionTimeoutMs, maxPayloadBytes },
);

describe('kafka transport specifics', () => {
  it('validates options naming the field', async () => {
    for (const [field, bad] of [
      ['url', 'nats://127.0.0.1:4222'],
      ['url', ''],
      ['namespace', 'has space'],
      ['sessionTimeoutMs', -1],
      ['heartbeatIntervalMs', 60_000],
      ['maxPayloadBytes', 1.5],
      ['staticMembership', 'yes'],
    ] as const) {
      await assert.rejects(
        createKafkaTransport({ url, [field]: bad } as unknown as KafkaTransportOptions),
        (error: Error & { code?: string }) =>
          error.code === 'SLUICE_INVALID_OPTION' && error.message.includes(field),
        `${field}: ${String(bad)}`,
      );
    }
  });

  it('creates each kind with its Kafka config and puts keys where partitionFor says', async (context) => {
    const namespace = freshNamespace();
    const t = await createKafkaTransport({ url, namespace, tombstoneRetentionMs: 5000 });
    const brokers = url.replace('kafka://', '').split(',');
    try {
      await t.ensureTopic({ name: 'e', kind: 'entity', partitions: 3 });
      await t.ensureTopic({ name: 'm', kind: 'message', partitions: 2, retentionMs: 90_000 });
      await t.ensureTopic({ name: 'h', kind: 'event', partitions: 5 });
      const config = async (name: string) =>
        (await describeTopicConfigs(brokers[0]!, `${namespace}.${name}`, 5000))!;
      const e = await config('e');
      assert.equal(e.get('cleanup.policy'), 'compact');
      assert.equal(e.get('delete.retention.ms'), '5000');
      assert.equal(e.get('min.cleanable.dirty.ratio'), '0.01');
      const m = await config('m');
      assert.equal(m.get('cleanup.policy'), 'delete');
      assert.equal(m.get('retention.ms'), '90000');
      const h = await config('h');
      assert.equal(h.get('retention.ms'), '-1');
      assert.equal(h.get('message.timestamp.type'), 'LogAppendTime');
      const keys = Array.from({ length: 100 }, (_, i) => `key-${i}`);
      const acks = await t.publish(keys.map((key, i) => ({ topic: 'h', key, value: 'v', id: String(i) })));
      acks.forEach((ack, i) => assert.equal(ack.partition, partitionFor(keys[i]!, 5)));
      const sub = await t.subscribe({ group: 'g', topics: ['h'] });
      await sub.poll({ maxRecords: 100, maxWaitMs: 3000 });
      const latencies: number[] = [];
      for (let i = 0; i < 10; i++) {
        await sub.poll({ maxRecords: 100, maxWaitMs: 0 });
        const waiting = sub.poll({ maxRecords: 10, maxWaitMs: 5000 });
        await new Promise((r) => setTimeout(r, 20));
        const start = performance.now();
        await t.publish([{ topic: 'h', key: `w${i}`, value: 'v', id: `w${i}` }]);
        assert.equal((await waiting).length, 1);
        latencies.push(Math.round(performance.now() - start));
      }
      context.diagnostic(
        `publish-to-poll wake-up latency (acks=all, fetch.wait.max.ms=10): ${latencies.join(', ')} ms`,
      );
    } finally {
      await t.close();
      await deleteNamespace(url, namespace);
    }
  });
});
