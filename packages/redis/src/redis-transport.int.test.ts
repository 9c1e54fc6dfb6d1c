import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { createClient } from '@redis/client';
import { type RawRecord, runTransportConformance } from '@sluice/testing';
import type { RedisSubscription } from './redis-subscription.js';
import { createRedisTransport, type RedisTransport } from './redis-transport.js';

const sessionTimeoutMs = 300;
const tombstoneRetentionMs = 1000;

function redisUrl(): string {
  const url = process.env['SLUICE_TEST_REDIS_URL'];
  if (url === undefined || url === '') {
    throw new Error(
      'SLUICE_TEST_REDIS_URL is not set: run `eval "$(bash scripts/services redis)"` first (npm test does it)',
    );
  }
  return url;
}

/** Deletes every key under `prefix`. */
async function deleteKeys(prefix: string): Promise<void> {
  const client = createClient({ url: redisUrl() });
  await client.connect();
  try {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}:*`, COUNT: 1000 })) {
      if (keys.length > 0) await client.del(keys);
    }
  } finally {
    await client.close();
  }
}

/** Every entry of `topic`'s partition streams, as docs/cloudevents.md lays out Redis records. */
async function readStreams(prefix: string, topic: string): Promise<RawRecord[]> {
  const client = createClient({ url: redisUrl() });
  await client.connect();
  try {
    const out: RawRecord[] = [];
    for await (const keys of client.scanIterator({ MATCH: `${prefix}:stream:${topic}:*`, COUNT: 1000 })) {
      for (const key of keys) {
        for (const entry of (await client.xRange(key, '-', '+')) ?? []) {
          const { k, v, h } = entry.message as Record<string, string | undefined>;
          if (v === undefined) continue; // a tombstone
          out.push({ key: k ?? '', value: v, headers: h === undefined ? {} : JSON.parse(h) });
        }
      }
    }
    return out;
  } finally {
    await client.close();
  }
}

runTransportConformance(
  'redis streams',
  async () => {
    const options = {
      url: redisUrl(),
      prefix: `sluice-test-${randomUUID()}`,
      sessionTimeoutMs,
      tombstoneRetentionMs,
      sweepIntervalMs: 50,
    };
    return {
      transport: await createRedisTransport(options),
      reopen: async () => createRedisTransport(options),
      connect: async () => createRedisTransport(options),
      crash: async (t) => (t as RedisTransport).abandon(),
      readRaw: { binding: 'layout', read: (topic) => readStreams(options.prefix, topic) },
      cleanup: async () => deleteKeys(options.prefix),
    };
  },
  { sessionTimeoutMs, tombstoneRetentionMs },
);

describe('redis streams specifics', () => {
  it('fails with SLUICE_BROKER_UNAVAILABLE when the server cannot be reached within connectTimeoutMs', async () => {
    const start = Date.now();
    await assert.rejects(
      createRedisTransport({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 300 }),
      (error: Error & { code?: string; retryable?: boolean }) =>
        error.code === 'SLUICE_BROKER_UNAVAILABLE' && error.retryable === true,
    );
    assert.ok(Date.now() - start < 3000, `gave up after ${Date.now() - start} ms`);
  });

  it('validates options naming the field', async () => {
    for (const [field, bad] of [
      ['url', 'http://x'],
      ['prefix', ''],
      ['sessionTimeoutMs', -1],
      ['maxPayloadBytes', 1.5],
      ['heartbeatIntervalMs', 10_000],
      ['connectTimeoutMs', 0],
    ] as const) {
      await assert.rejects(
        createRedisTransport({ url: 'redis://127.0.0.1:1', [field]: bad }),
        (error: Error & { code?: string }) =>
          error.code === 'SLUICE_INVALID_OPTION' && error.message.includes(field),
      );
    }
  });

  it('the sweep trims expired message entries from the streams; offsets keep increasing', async () => {
    const prefix = `sluice-test-${randomUUID()}`;
    const t = await createRedisTransport({ url: redisUrl(), prefix, sweepIntervalMs: 50 });
    const client = createClient({ url: redisUrl() });
    await client.connect();
    try {
      await t.ensureTopic({ name: 'pings', kind: 'message', partitions: 1, retentionMs: 100 });
      const first = await t.publish(
        [1, 2, 3].map((i) => ({ topic: 'pings', key: 'k', value: `v${i}`, id: `${i}` })),
      );
      const length = () => client.xLen(`${prefix}:stream:pings:0`);
      assert.equal(await length(), 3);
      const deadline = Date.now() + 3000;
      while ((await length()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(await length(), 0, 'the sweep trimmed the expired entries');
      const [next] = await t.publish([{ topic: 'pings', key: 'k', value: 'v4', id: '4' }]);
      assert.ok(BigInt(next!.offset) > BigInt(first[2]!.offset));
    } finally {
      await client.close();
      await t.close();
      await deleteKeys(prefix);
    }
  });

  it('an aborted wait frees the waiting connection at once (CLIENT UNBLOCK)', async () => {
    const prefix = `sluice-test-${randomUUID()}`;
    // The default session timeout: a wait blocks in Redis for up to a heartbeat interval (3.3 s) at a time.
    const t = await createRedisTransport({ url: redisUrl(), prefix });
    const client = createClient({ url: redisUrl() });
    await client.connect();
    try {
      await t.ensureTopic({ name: 'wake', kind: 'event', partitions: 2 });
      const sub = (await t.subscribe({ group: 'g', topics: ['wake'] })) as RedisSubscription;
      const blocked = async () =>
        (await client.clientList()).some((c) => c.name === sub.waitConnectionName && c.flags.includes('b'));
      const abort = new AbortController();
      const waiting = sub.poll({ maxRecords: 10, maxWaitMs: 10_000, signal: abort.signal });
      await new Promise((r) => setTimeout(r, 100));
      assert.ok(await blocked(), 'the poll waits in XREAD BLOCK');
      const start = performance.now();
      abort.abort();
      assert.deepEqual(await waiting, []);
      assert.ok(performance.now() - start < 100, 'abort ends the wait');
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(await blocked(), false, 'the XREAD BLOCK was ended, not left to time out');
    } finally {
      await client.close();
      await t.close();
      await deleteKeys(prefix);
    }
  });

  it('publishes 100k small records in batches of 1000 (appendfsync always on the services server)', async (context) => {
    const prefix = `sluice-test-${randomUUID()}`;
    const t = await createRedisTransport({ url: redisUrl(), prefix });
    try {
      await t.ensureTopic({ name: 'bench', kind: 'event', partitions: 8 });
      const value = JSON.stringify({
        specversion: '1.0',
        id: randomUUID(),
        type: 'bench.done',
        data: { n: 1 },
      });
      const start = performance.now();
      for (let b = 0; b < 100; b++) {
        await t.publish(
          Array.from({ length: 1000 }, (_, i) => ({
            topic: 'bench',
            key: `key-${(b * 1000 + i) % 5000}`,
            value,
            id: `${b}.${i}`,
          })),
        );
      }
      const rate = Math.round(100_000 / ((performance.now() - start) / 1000));
      context.diagnostic(`publish: ${rate} records/s (${value.length}-byte values, batches of 1000)`);
      const sub = await t.subscribe({ group: 'g', topics: ['bench'] });
      const consumeStart = performance.now();
      let n = 0;
      while (n < 100_000) n += (await sub.poll({ maxRecords: 1000, maxWaitMs: 1000 })).length;
      const consumeRate = Math.round(100_000 / ((performance.now() - consumeStart) / 1000));
      context.diagnostic(`poll: ${consumeRate} records/s (maxRecords 1000)`);
      assert.ok(rate > 5_000, `publish rate ${rate} records/s`);
    } finally {
      await t.close();
      await deleteKeys(prefix);
    }
  });

  it('a joining member reads a partition only after its previous owner released it', async () => {
    const prefix = `sluice-test-${randomUUID()}`;
    const t = await createRedisTransport({ url: redisUrl(), prefix, sessionTimeoutMs });
    try {
      await t.ensureTopic({ name: 'handover', kind: 'event', partitions: 8 });
      const a = await t.subscribe({ group: 'g', topics: ['handover'], memberId: 'member-a' });
      assert.deepEqual(await a.poll({ maxRecords: 1, maxWaitMs: 0 }), []);
      assert.equal(a.assignment().length, 8);
      await t.publish(
        Array.from({ length: 40 }, (_, i) => ({ topic: 'handover', key: `k${i}`, value: 'v', id: `${i}` })),
      );
      assert.equal((await a.poll({ maxRecords: 100, maxWaitMs: 1000 })).length, 40); // polled, not committed
      const b = await t.subscribe({ group: 'g', topics: ['handover'], memberId: 'member-b' });
      // member-a has not polled since member-b joined: it may still be working on its records.
      assert.deepEqual(await b.poll({ maxRecords: 100, maxWaitMs: sessionTimeoutMs * 2 }), []);
      assert.equal(b.assignment().length, 0, 'nothing is read by two members at once');
      assert.deepEqual(await a.poll({ maxRecords: 100, maxWaitMs: 0 }), []); // releases half
      assert.equal(a.assignment().length, 4);
      const got = await b.poll({ maxRecords: 100, maxWaitMs: 1000 });
      assert.equal(b.assignment().length, 4);
      const mine = new Set(b.assignment().map((tp) => tp.partition));
      assert.ok(got.length > 0 && got.every((r) => mine.has(r.partition)), 'from the committed offsets');
    } finally {
      await t.close();
      await deleteKeys(prefix);
    }
  });
});
