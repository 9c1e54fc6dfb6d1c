import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Consumer, MessagesStreamModes, stringDeserializers } from '@platformatic/kafka';
import { partitionFor } from '@sluice/core/adapter';
import { type RawRecord, runTransportConformance } from '@sluice/testing';
import { deleteNamespace, freshNamespace, testBrokerUrl } from './kafka.test-support.js';
import { describeTopicConfigs } from './kafka-describe-configs.js';
import type { KafkaTransportOptions } from './kafka-options.js';
import { createKafkaTransport, type KafkaTransport } from './kafka-transport.js';

const url = testBrokerUrl();
// The broker's group.min.session.timeout.ms is Kafka's default, 6000 ms.
const sessionTimeoutMs = 6000;
const maxPayloadBytes = 1_000_000;

/**
 * Every record of `topic` with all its Kafka headers, read by a plain Kafka consumer (a throwaway group from the
 * earliest offset) until nothing more arrives for 2 s.
 */
async function readTopic(namespace: string, topic: string): Promise<RawRecord[]> {
  const consumer = new Consumer({
    clientId: 'sluice-raw-reader',
    groupId: `${namespace}.raw-${Date.now()}`,
    bootstrapBrokers: url.replace(/^kafka:\/\//, '').split(','),
    deserializers: stringDeserializers,
    autocommit: false,
  });
  const out: RawRecord[] = [];
  try {
    const stream = await consumer.consume({
      topics: [`${namespace}.${topic}`],
      mode: MessagesStreamModes.EARLIEST,
    });
    const deadline = Date.now() + 20_000;
    let last = Date.now();
    const timer = setInterval(() => {
      if ((out.length > 0 && Date.now() - last > 2000) || Date.now() > deadline) void stream.close();
    }, 100);
    try {
      for await (const m of stream) {
        last = Date.now();
        if (m.value === null || m.value === undefined || m.value === '') continue; // a tombstone
        out.push({ key: m.key ?? '', value: m.value, headers: Object.fromEntries(m.headers) });
      }
    } finally {
      clearInterval(timer);
    }
  } finally {
    await consumer.close(true);
  }
  return out;
}

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
      readRaw: { binding: 'kafka', read: (topic) => readTopic(namespace, topic) },
      cleanup: () => deleteNamespace(url, namespace),
    };
  },
  // More records per fresh topic than the default: a benchmark once saw Kafka acknowledge records a topic
  // created a moment before never stored (about 3 s here).
  { sessionTimeoutMs, maxPayloadBytes, ackedStoredBatches: 10 },
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
      assert.deepEqual(
        acks.map((ack) => ack.partition),
        keys.map((key) => partitionFor(key, 5)),
      );
      const sub = await t.subscribe({ group: 'g', topics: ['h'] });
      // All 100 first (librdkafka hands a prefetch over in pieces), so a wake-up below gets only the new one.
      for (let got = 0, deadline = Date.now() + 10_000; got < 100 && Date.now() < deadline; ) {
        got += (await sub.poll({ maxRecords: 100, maxWaitMs: 1000 })).length;
      }
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
      await sub.close();
      context.diagnostic(`publish-to-poll wake-up latency (acks=all): ${latencies.join(', ')} ms`);
    } finally {
      await t.close();
      await deleteNamespace(url, namespace);
    }
  });

  it('a closing member leaves at once; a static member (the crash harness) keeps its partitions until the session timeout', async (context) => {
    const namespace = freshNamespace();
    const sessionTimeoutMs = 6000;
    const open = (staticMembership: boolean) =>
      createKafkaTransport({ url, namespace, sessionTimeoutMs, staticMembership });
    const stay = await open(false);
    const times: Record<string, number> = {};
    try {
      await stay.ensureTopic({ name: 'm', kind: 'event', partitions: 2 });
      const b = await stay.subscribe({ group: 'g', topics: ['m'], memberId: 'b' });
      for (const staticMembership of [false, true]) {
        const other = await open(staticMembership);
        const a = await other.subscribe({ group: 'g', topics: ['m'], memberId: 'a' });
        const deadline = Date.now() + 15_000;
        while ((a.assignment().length === 0 || b.assignment().length === 0) && Date.now() < deadline) {
          await a.poll({ maxRecords: 1, maxWaitMs: 0 });
          await b.poll({ maxRecords: 1, maxWaitMs: 20 });
        }
        assert.equal(b.assignment().length, 1, 'the members split the partitions');
        const closedAt = Date.now();
        await (other as KafkaTransport).abandon();
        while (b.assignment().length < 2 && Date.now() < closedAt + 20_000) {
          await b.poll({ maxRecords: 1, maxWaitMs: 20 });
        }
        times[staticMembership ? 'static' : 'dynamic'] = Date.now() - closedAt;
      }
      context.diagnostic(
        `partitions moved ${times['dynamic']} ms after a dynamic member closed, ${times['static']} ms after a static one`,
      );
      assert.ok(times['dynamic']! < sessionTimeoutMs / 2, 'a dynamic member leaves when it closes');
      assert.ok(times['static']! >= sessionTimeoutMs * 0.9, 'a static member sends no LeaveGroup');
      assert.ok(times['static']! < sessionTimeoutMs * 2 + 1000);
      await b.close();
    } finally {
      await stay.close();
      await deleteNamespace(url, namespace);
    }
  });
});
