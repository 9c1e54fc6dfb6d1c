import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  createConsumer,
  defineEvent,
  defineKey,
  defineTopic,
  encodeEnvelope,
  handle,
  type InboxStore,
  type OutgoingRecord,
  type Subscription,
} from '@sluice/core';
import { envelopeOf, prepareEvent } from '@sluice/core/adapter';
import { ackedStoredAcrossRestart, PrivateRedis } from '@sluice/testing';
import { createRedisTransport, type RedisTransport } from './redis-transport.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const servers: PrivateRedis[] = [];

/** A minimal Standard Schema validator (the test needs no schema library). */
function schema<T>(check: (value: unknown) => value is T, what: string) {
  return {
    '~standard': {
      version: 1 as const,
      vendor: 'sluice-redis-test',
      validate: (value: unknown) =>
        check(value) ? { value } : { issues: [{ message: `expected ${what}` }] },
      types: undefined as unknown as { readonly input: T; readonly output: T },
    },
  };
}
const OrderId = defineKey(
  'orderId',
  schema((v): v is string => typeof v === 'string' && v.length > 0, 'a non-empty string'),
  { description: 'an order' },
);
const OrderStepped = defineEvent({
  type: 'order.stepped',
  version: 1,
  key: OrderId,
  topic: defineTopic({ name: 'steps', kind: 'event', partitions: 8 }),
  description: 'An order moved one step on.',
  schema: schema(
    (v): v is { orderId: string; step: number } =>
      typeof v === 'object' &&
      v !== null &&
      typeof (v as { orderId?: unknown }).orderId === 'string' &&
      Number.isInteger((v as { step?: unknown }).step),
    '{ orderId, step }',
  ),
});
after(async () => {
  for (const server of servers) await server.stop();
});

/**
 * SIGKILLs of a private redis-server (AOF, `appendfsync always`) while the relay's part (publish, retrying a
 * failed batch as the relay does) and a consumer (poll, apply through an inbox-like check, commit) run on the
 * Sluice transport. Afterwards every acknowledged publish was applied once, nothing was invented, and each
 * key's records were applied in order (a redelivered or republished record is skipped, as an inbox does).
 */
describe('Redis Streams transport across SIGKILLs of the server', () => {
  it('reconnects and loses nothing acknowledged, invents nothing, keeps per-key order', {
    timeout: 120_000,
  }, async (t) => {
    const server = await PrivateRedis.start('always');
    servers.push(server);
    const options = { url: server.url, prefix: 'fault', sessionTimeoutMs: 2000, maxReconnectDelayMs: 100 };
    const producer = await createRedisTransport(options);
    const consumer = await createRedisTransport(options);
    await producer.ensureTopic({ name: 'orders', kind: 'event', partitions: 8 });
    const keys = Array.from({ length: 200 }, (_, i) => `key-${i}`);
    const nextSeq = new Map<string, number>();
    const attempted = new Map<string, number>(); // highest seq ever handed to publish, per key
    const acked = new Map<string, number>(); // highest acknowledged seq, per key
    let ackedCount = 0;
    let failedPublishes = 0;
    let republishedRecords = 0;
    let stop = false;
    let publishing = true;

    const publisher = (async () => {
      let id = 0;
      while (!stop) {
        const batch: OutgoingRecord[] = [];
        for (let i = 0; i < 20; i++) {
          const key = keys[Math.floor(Math.random() * keys.length)]!;
          const seq = (nextSeq.get(key) ?? 0) + 1;
          nextSeq.set(key, seq);
          attempted.set(key, seq);
          batch.push({ topic: 'orders', key, value: `${key}:${seq}`, id: String(++id) });
        }
        // As the relay does: a failed batch is published again, whole, until acknowledged (may duplicate).
        for (;;) {
          try {
            await producer.publish(batch);
            break;
          } catch (error) {
            assert.equal((error as { retryable?: unknown }).retryable, true, String(error));
            failedPublishes++;
            republishedRecords += batch.length;
            await sleep(50);
          }
        }
        for (const record of batch) acked.set(record.key, Number(record.value!.split(':')[1]));
        ackedCount += batch.length;
        await sleep(2);
      }
      publishing = false;
    })();

    const applied = new Map<string, number>();
    let appliedCount = 0;
    let duplicates = 0;
    let invented = 0;
    let orderViolations = 0;
    let pollErrors = 0;
    const done = () => !publishing && [...acked].every(([key, seq]) => (applied.get(key) ?? 0) >= seq);
    const sub: Subscription = await consumer.subscribe({ group: 'fault', topics: ['orders'] });
    const consuming = (async () => {
      const deadline = Date.now() + 100_000;
      while (!done() && Date.now() < deadline) {
        let records: Awaited<ReturnType<Subscription['poll']>>;
        try {
          records = await sub.poll({ maxRecords: 200, maxWaitMs: 200 });
        } catch (error) {
          assert.equal((error as { retryable?: unknown }).retryable, true, String(error));
          pollErrors++;
          await sleep(50);
          continue;
        }
        for (const record of records) {
          const [key, seqText] = record.value!.split(':') as [string, string];
          const seq = Number(seqText);
          const last = applied.get(key) ?? 0;
          if (seq > (attempted.get(key) ?? 0)) invented++;
          else if (seq <= last) duplicates++;
          else if (seq === last + 1) {
            applied.set(key, seq);
            appliedCount++;
          } else orderViolations++;
        }
        await sub.commit(records).catch(() => undefined); // a lost commit only redelivers
      }
    })();

    const kills = 4;
    const downtimes: number[] = [];
    for (let k = 0; k < kills; k++) {
      await sleep(1500);
      await server.kill();
      const killedAt = Date.now();
      await sleep(300 + Math.floor(Math.random() * 400));
      await server.start();
      downtimes.push(Date.now() - killedAt);
    }
    await sleep(1000);
    stop = true;
    await publisher;
    await consuming;
    await sub.close().catch(() => undefined);
    await producer.close();
    await consumer.close();

    const lost = [...acked].reduce((n, [key, seq]) => n + Math.max(0, seq - (applied.get(key) ?? 0)), 0);
    const stored = await (async () => {
      const reader = (await createRedisTransport(options)) as RedisTransport;
      try {
        return (await reader.read('orders', { to: 'earliest' }, 1_000_000)).length;
      } finally {
        await reader.close();
      }
    })();
    t.diagnostic(
      `kills ${kills} (down ${downtimes.join(', ')} ms); acknowledged ${ackedCount}; failed publishes ${failedPublishes} ` +
        `(${republishedRecords} records republished); stored entries ${stored}; applied ${appliedCount}; ` +
        `duplicates skipped ${duplicates}; poll errors ${pollErrors}; lost ${lost}; invented ${invented}; ` +
        `order violations ${orderViolations}`,
    );
    assert.ok(failedPublishes > 0, 'the kills interrupted the publisher');
    assert.equal(lost, 0, 'every acknowledged publish was applied');
    assert.equal(invented, 0, 'nothing was invented');
    assert.equal(orderViolations, 0, 'per-key order held');
    assert.equal(appliedCount, ackedCount, 'each acknowledged record applied exactly once');
  });

  it('core createConsumer() with an inbox rides out SIGKILLs of the server: each acknowledged event applied once, in order', {
    timeout: 120_000,
  }, async (t) => {
    const server = await PrivateRedis.start('always');
    servers.push(server);
    const options = { url: server.url, prefix: 'consume', sessionTimeoutMs: 2000, maxReconnectDelayMs: 100 };
    const producer = await createRedisTransport(options);
    const consumerTransport = await createRedisTransport(options);
    await producer.ensureTopic(OrderStepped.topic);
    const keys = Array.from({ length: 100 }, (_, i) => `order-${i}`);
    const nextStep = new Map<string, number>();
    const acked = new Map<string, number>();
    let ackedCount = 0;
    let failedPublishes = 0;
    let stop = false;
    let publishing = true;
    const publisher = (async () => {
      while (!stop) {
        const batch: OutgoingRecord[] = [];
        for (let i = 0; i < 20; i++) {
          const orderId = keys[Math.floor(Math.random() * keys.length)]!;
          const step = (nextStep.get(orderId) ?? 0) + 1;
          nextStep.set(orderId, step);
          const envelope = envelopeOf(prepareEvent(OrderStepped, { orderId, step }), 'urn:fault', step);
          batch.push({ topic: 'steps', key: orderId, value: encodeEnvelope(envelope), id: envelope.id });
        }
        for (;;) {
          try {
            await producer.publish(batch);
            break;
          } catch (error) {
            assert.equal((error as { retryable?: unknown }).retryable, true, String(error));
            failedPublishes++;
            await sleep(50);
          }
        }
        for (const record of batch) acked.set(record.key, (acked.get(record.key) ?? 0) + 1);
        ackedCount += batch.length;
        await sleep(2);
      }
      publishing = false;
    })();

    const seen = new Set<string>();
    const inbox: InboxStore<undefined> = {
      name: 'memory',
      async runOnce(_group, id, apply) {
        if (seen.has(id)) return 'duplicate';
        await apply(undefined);
        seen.add(id);
        return 'applied';
      },
      // Keeps no chains (it ignores `chain`): this test is not about gaps.
      async passChain() {
        return 'passed' as const;
      },
      async startGroup() {
        return false;
      },
      async close() {},
    };
    const applied = new Map<string, number>();
    let appliedCount = 0;
    let duplicates = 0;
    let orderViolations = 0;
    const consumer = createConsumer({
      transport: consumerTransport,
      group: 'steps-view',
      inbox,
      commitIntervalMs: 50,
      handlers: [
        handle(OrderStepped, (e) => {
          const last = applied.get(e.data.orderId) ?? 0;
          if (e.data.step !== last + 1) orderViolations++;
          applied.set(e.data.orderId, e.data.step);
          appliedCount++;
        }),
      ],
      onOutcome: (o) => {
        if (o.kind === 'duplicate') duplicates++;
      },
    });
    let died: unknown;
    consumer.done.catch((error: unknown) => {
      died = error;
    });

    const downtimes: number[] = [];
    for (let k = 0; k < 3; k++) {
      await sleep(1500);
      await server.kill();
      const killedAt = Date.now();
      await sleep(300 + Math.floor(Math.random() * 400));
      await server.start();
      downtimes.push(Date.now() - killedAt);
    }
    await sleep(500);
    stop = true;
    await publisher;
    const deadline = Date.now() + 60_000;
    const caughtUp = () => [...acked].every(([key, n]) => (applied.get(key) ?? 0) >= n);
    while (died === undefined && !publishing && !caughtUp() && Date.now() < deadline) await sleep(50);
    await consumer.stop().catch(() => undefined);
    await producer.close();
    await consumerTransport.close();
    const lost = [...acked].reduce((n, [key, count]) => n + Math.max(0, count - (applied.get(key) ?? 0)), 0);
    t.diagnostic(
      `kills 3 (down ${downtimes.join(', ')} ms); acknowledged ${ackedCount}; failed publishes ${failedPublishes}; ` +
        `applied ${appliedCount}; duplicates skipped by the inbox ${duplicates}; lost ${lost}; ` +
        `order violations ${orderViolations}`,
    );
    assert.equal(died, undefined, `the consumer died: ${String(died)}`);
    assert.equal(lost, 0, 'every acknowledged event was applied');
    assert.equal(orderViolations, 0, 'per-key order held');
    assert.equal(appliedCount, ackedCount, 'each acknowledged event applied once, nothing invented');
  });

  it('acknowledged means stored: a fresh topic, 4 publishers at full rate, the server SIGKILLed mid-stream', {
    timeout: 120_000,
  }, async (t) => {
    const server = await PrivateRedis.start('always');
    servers.push(server);
    const options = { url: server.url, prefix: 'acked', maxReconnectDelayMs: 100 };
    t.diagnostic(
      await ackedStoredAcrossRestart({
        open: () => createRedisTransport(options),
        topic: { name: 'fresh', partitions: 8 },
        tag: `redis-restart-${Date.now().toString(36)}`,
        retryDelayMs: 50,
        restart: async () => {
          await server.kill();
          await sleep(300 + Math.floor(Math.random() * 400));
          await server.start();
        },
      }),
    );
  });

  /**
   * With `appendfsync everysec` Redis writes the AOF before replying but fsyncs once a second: a SIGKILL of the
   * Redis process keeps every acknowledged entry (the write is in the OS page cache, which survives the
   * process); only a crash of the machine or a power loss can lose up to ~1 s of acknowledged publishes, which
   * no test here can cause. With `appendfsync always` nothing acknowledged is lost even then.
   */
  it('with appendfsync everysec a SIGKILL of the server keeps every acknowledged publish', {
    timeout: 60_000,
  }, async (t) => {
    const server = await PrivateRedis.start('everysec');
    servers.push(server);
    const options = { url: server.url, prefix: 'everysec', maxReconnectDelayMs: 100 };
    const transport = await createRedisTransport(options);
    await transport.ensureTopic({ name: 'orders', kind: 'event', partitions: 4 });
    const acks: string[] = [];
    for (let b = 0; b < 200; b++) {
      const got = await transport.publish(
        Array.from({ length: 10 }, (_, i) => ({
          topic: 'orders',
          key: `k${i}`,
          value: `${b}.${i}`,
          id: `${b}.${i}`,
        })),
      );
      for (const ack of got) acks.push(`${ack.partition}@${ack.offset}`);
    }
    // No pause: the kill comes right after the last acknowledgement, before the next fsync.
    await server.kill();
    await transport.close();
    await server.start();
    const again = await createRedisTransport(options);
    try {
      const stored = await again.read('orders', { to: 'earliest' }, 100_000);
      t.diagnostic(`acknowledged ${acks.length}; after SIGKILL and restart ${stored.length} stored`);
      assert.deepEqual(stored.map((r) => `${r.partition}@${r.offset}`).sort(), [...acks].sort());
    } finally {
      await again.close();
    }
  });
});
