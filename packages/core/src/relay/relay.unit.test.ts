import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineTopic } from '../contracts/define-topic.js';
import { MigrationRequiredError, SluiceError, TransportError } from '../errors.js';
import { MemoryOutbox } from '../testing/memory-stores.js';
import { createMemoryTransport } from '../transport/memory/memory-transport.js';
import type { OutgoingRecord, PublishAck } from '../transport/records.js';
import type { Transport } from '../transport/transport.js';
import { sleep } from '../util/sleep.js';
import { createRelay } from './relay.js';

const topic = defineTopic({ name: 'orders', kind: 'event', partitions: 4 });

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

/** Reads everything in the topic, in order per partition. */
async function published(transport: Transport): Promise<{ key: string; value: string | null }[]> {
  return (await transport.read(topic.name, { to: 'earliest' }, 100_000)).map((r) => ({
    key: r.key,
    value: r.value,
  }));
}

/** A transport wrapper whose publish can be made to fail, to exercise the relay's failure handling. */
function faulty(
  inner: Transport,
  fail: (records: readonly OutgoingRecord[]) => Error | undefined,
): Transport {
  return {
    name: 'faulty',
    ensureTopic: (s) => inner.ensureTopic(s),
    publish: async (records): Promise<PublishAck[]> => {
      const error = fail(records);
      if (error) throw error;
      return inner.publish(records);
    },
    subscribe: (o) => inner.subscribe(o),
    resetOffsets: (g, t, s) => inner.resetOffsets(g, t, s),
    lag: (g, t) => inner.lag(g, t),
    read: (t, s, l) => inner.read(t, s, l),
    close: () => inner.close(),
  };
}

function assertOrderPerKey(
  records: { key: string; value: string | null }[],
  expected: Map<string, string[]>,
): void {
  const seen = new Map<string, string[]>();
  for (const r of records) {
    const list = seen.get(r.key) ?? [];
    // Duplicates from at-least-once delivery are allowed; order of first appearance must match.
    if (!list.includes(r.value!)) list.push(r.value!);
    seen.set(r.key, list);
  }
  assert.deepEqual(seen, expected);
}

describe('relay', () => {
  it('ships every row in order per key, in batches, and acknowledges them', async () => {
    const outbox = new MemoryOutbox();
    const transport = createMemoryTransport();
    const expected = new Map<string, string[]>();
    for (let i = 0; i < 2500; i++) {
      const key = `k${i % 17}`;
      outbox.add(topic.name, key, `v${i}`);
      expected.set(key, [...(expected.get(key) ?? []), `v${i}`]);
    }
    const relay = createRelay({ outbox, transport, topics: [topic], batchSize: 300 }).start();
    await until(() => outbox.rows.length === 0);
    const stats = await relay.stats();
    await relay.stop();
    assert.equal(stats.published, 2500);
    assert.ok(stats.batches >= 9, `expected batches of at most 300, got ${stats.batches} batches`);
    assertOrderPerKey(await published(transport), expected);
  });

  it('wakes promptly when a row is appended while idle', async () => {
    const outbox = new MemoryOutbox();
    const transport = createMemoryTransport();
    const relay = createRelay({ outbox, transport, topics: [topic], idleWaitMs: 10_000 }).start();
    await sleep(50);
    const t = performance.now();
    outbox.add(topic.name, 'k', 'v');
    await until(() => outbox.rows.length === 0);
    const elapsed = performance.now() - t;
    await relay.stop();
    // Woken by the append, not by the 10 s idle wait: a bound far below that and far above any scheduling delay.
    assert.ok(elapsed < 2_000, `took ${elapsed} ms`);
  });

  it('retries after transient transport failures without losing or reordering', async () => {
    const outbox = new MemoryOutbox();
    let failures = 0;
    const inner = createMemoryTransport();
    const transport = faulty(inner, () =>
      failures++ < 5 ? new TransportError('SLUICE_BROKER_UNAVAILABLE', 'down') : undefined,
    );
    const expected = new Map<string, string[]>();
    for (let i = 0; i < 500; i++) {
      outbox.add(topic.name, `k${i % 5}`, `v${i}`);
      expected.set(`k${i % 5}`, [...(expected.get(`k${i % 5}`) ?? []), `v${i}`]);
    }
    const relay = createRelay({
      outbox,
      transport,
      topics: [topic],
      backoff: { initialMs: 1, maxMs: 5 },
    }).start();
    await until(() => outbox.rows.length === 0);
    await relay.stop();
    assert.ok(failures > 5);
    assertOrderPerKey(await published(inner), expected);
  });

  it('waits for a broker that is away at start, and stops on a topic it refuses for good', async () => {
    const inner = createMemoryTransport();
    let refusals = 3;
    const starting: Transport = {
      ...faulty(inner, () => undefined),
      ensureTopic: async (spec) => {
        if (refusals > 0) {
          refusals--;
          throw new TransportError('SLUICE_BROKER_UNAVAILABLE', 'loading its data; retry');
        }
        return inner.ensureTopic(spec);
      },
    };
    const outbox = new MemoryOutbox();
    outbox.add(topic.name, 'k', 'v1');
    const relay = createRelay({
      outbox,
      transport: starting,
      topics: [topic],
      backoff: { initialMs: 5, maxMs: 10 },
    }).start();
    try {
      await until(async () => (await published(inner).catch(() => [])).length === 1);
    } finally {
      await relay.stop();
    }
    assert.equal(refusals, 0, 'tried again until the broker answered');

    const mismatch: Transport = {
      ...faulty(createMemoryTransport(), () => undefined),
      ensureTopic: async () => {
        throw new TransportError('SLUICE_TOPIC_MISMATCH', 'orders exists with 8 partitions', {});
      },
    };
    const stopped = createRelay({ outbox: new MemoryOutbox(), transport: mismatch, topics: [topic] }).start();
    await assert.rejects(
      stopped.done,
      (error: unknown) => (error as SluiceError).code === 'SLUICE_TOPIC_MISMATCH',
    );
  });

  it('holds back only the key whose event the transport refuses for good, then releases it in order', async () => {
    const outbox = new MemoryOutbox();
    let refuse = true;
    const inner = createMemoryTransport();
    const transport = faulty(inner, (records) =>
      refuse && records.some((r) => r.key === 'bad')
        ? new SluiceError('SLUICE_BROKER_ERROR', 'refused')
        : undefined,
    );
    for (let i = 0; i < 100; i++) outbox.add(topic.name, i % 10 === 0 ? 'bad' : `k${i % 7}`, `v${i}`);
    const relay = createRelay({
      outbox,
      transport,
      topics: [topic],
      backoff: { initialMs: 20, maxMs: 50 },
    }).start();
    await until(() => outbox.rows.every((r) => r.key === 'bad'));
    assert.equal(outbox.rows.length, 10, 'the 10 rows of the refused key stay in the outbox');
    const stats = await relay.stats();
    assert.equal(stats.heldKeys.length, 1);
    assert.equal(stats.heldKeys[0]!.key, 'bad');
    assert.equal(stats.heldKeys[0]!.rows, 10);
    assert.ok(!(await published(inner)).some((r) => r.key === 'bad'));
    // Later rows of other keys keep flowing while the bad key is held.
    outbox.add(topic.name, 'k1', 'late');
    await until(async () => (await published(inner)).some((r) => r.value === 'late'));
    refuse = false;
    await until(() => outbox.rows.length === 0);
    await relay.stop();
    const bad = (await published(inner)).filter((r) => r.key === 'bad').map((r) => r.value);
    assert.deepEqual(
      bad,
      Array.from({ length: 10 }, (_, i) => `v${i * 10}`),
    );
  });

  it('rides out a store that fails for a while, and stops on one that needs a migration', async () => {
    const transport = createMemoryTransport();
    let failures = 3;
    const flaky = new MemoryOutbox();
    const read = flaky.readPending.bind(flaky);
    flaky.readPending = async (cursor, limit) => {
      if (failures-- > 0) throw new Error('connection terminated unexpectedly');
      return read(cursor, limit);
    };
    flaky.add(topic.name, 'k', 'v');
    const relay = createRelay({
      outbox: flaky,
      transport,
      topics: [topic],
      backoff: { initialMs: 1, maxMs: 5 },
    }).start();
    await until(() => flaky.rows.length === 0);
    await relay.stop();
    assert.deepEqual(
      (await published(transport)).map((r) => r.value),
      ['v'],
    );

    const broken = new MemoryOutbox();
    broken.readPending = async () => {
      throw new MigrationRequiredError('outbox table sluice_outbox is missing');
    };
    const doomed = createRelay({ outbox: broken, transport, topics: [topic] }).start();
    await assert.rejects(
      doomed.done,
      (e: unknown) => (e as { code?: string }).code === 'SLUICE_MIGRATION_REQUIRED',
    );
  });

  it('lets one instance publish at a time and fails over when it stops', async () => {
    const outbox = new MemoryOutbox();
    const transport = createMemoryTransport();
    const a = createRelay({ outbox, transport, topics: [topic], leaseTtlMs: 150, owner: 'a' }).start();
    await until(async () => (await a.stats()).leader);
    const b = createRelay({ outbox, transport, topics: [topic], leaseTtlMs: 150, owner: 'b' }).start();
    await sleep(100);
    assert.equal((await b.stats()).leader, false);
    await a.stop();
    outbox.add(topic.name, 'k', 'after-failover');
    await until(() => outbox.rows.length === 0, 3000);
    assert.equal((await b.stats()).leader, true);
    await b.stop();
    assert.deepEqual(
      (await published(transport)).map((r) => r.value),
      ['after-failover'],
    );
  });
});
