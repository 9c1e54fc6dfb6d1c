// Publishing and reading: acknowledgements, acknowledged means stored, order per key, read(), limits, topic declarations.
import assert from 'node:assert/strict';
import {
  ackedStoredProblems,
  compareAckedStored,
  describeRun,
  readAll,
  startPublishers,
} from './acked-stored-check.js';

import {
  assertQuiet,
  assertRejects,
  at,
  drain,
  publishMany,
  rec,
  type SuiteContext,
} from './transport-conformance-kit.js';

/** Publishing and reading: acknowledgements, acknowledged means stored, order per key, read(), limits, topic declarations. */
export function publishCases(s: SuiteContext): void {
  const { maxPayloadBytes, ackedStoredBatches, test, ensure } = s;
  test('publish acks every record in input order, and consumers see exactly those positions', async ({
    t,
  }) => {
    await ensure(t, 'orders', 'event', 4);
    const records = Array.from({ length: 40 }, (_, i) => rec('orders', `key-${i % 7}`, `v${i}`));
    const acks = await t.publish(records);
    assert.equal(acks.length, records.length);
    const last = new Map<number, bigint>();
    const partitionOfKey = new Map<string, number>();
    acks.forEach((ack, i) => {
      assert.equal(ack.topic, 'orders');
      assert.match(ack.offset, /^\d+$/);
      const prev = last.get(ack.partition);
      assert.ok(
        prev === undefined || BigInt(ack.offset) > prev,
        'offsets increase in input order per partition',
      );
      last.set(ack.partition, BigInt(ack.offset));
      const key = records[i]!.key;
      assert.equal(
        partitionOfKey.get(key) ?? ack.partition,
        ack.partition,
        `key ${key} stays in one partition`,
      );
      partitionOfKey.set(key, ack.partition);
    });
    const sub = await t.subscribe({ group: 'g', topics: ['orders'] });
    const got = await drain(sub, (all) => all.length >= 40);
    const byPosition = new Map(got.map((r) => [at(r), r.value]));
    assert.equal(got.length, 40);
    for (const [i, ack] of acks.entries()) assert.equal(byPosition.get(at(ack)), records[i]!.value);
    await assertQuiet(sub);
  });

  test('acknowledged means stored: a topic created just before, several concurrent publishers at full rate', async ({
    t,
    note,
  }) => {
    // Three brand-new topics in turn, each hit by 4 publishers (batches of 250 over 240 keys, no pause) the
    // moment ensureTopic() returns. Every ack is recorded; then every partition is read from the start.
    const tag = `acked-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const problems: string[] = [];
    const started = performance.now();
    for (let round = 0; round < 3; round++) {
      const topic = `fresh-${round}`;
      await ensure(t, topic, 'event', 8);
      const run = await startPublishers({
        transport: t,
        topic,
        tag: `${tag}-${round}`,
        publishers: 4,
        batchSize: 250,
        keys: 240,
        batchesPerPublisher: ackedStoredBatches,
      }).done;
      const verdict = compareAckedStored(run, await readAll(t, topic));
      note(describeRun(run, verdict));
      problems.push(...ackedStoredProblems(run, verdict, false));
      if (run.acks.length !== 4 * 250 * ackedStoredBatches)
        problems.push(`${topic}: ${run.acks.length} of ${4 * 250 * ackedStoredBatches} records acknowledged`);
    }
    note(`acknowledged means stored: ${Math.round(performance.now() - started)} ms for 3 topics`);
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('keeps order per key across 50 keys and 8 partitions with interleaved publishes', async ({ t }) => {
    await ensure(t, 'moves', 'event', 8);
    const keys = Array.from({ length: 50 }, (_, i) => `key-${i}`);
    const rounds = 20;
    for (let round = 0; round < rounds; round++) {
      const shuffled = [...keys].sort(() => Math.random() - 0.5);
      const half = shuffled.length / 2;
      // Two concurrent publishes of disjoint keys, so batches interleave in the store.
      await Promise.all(
        [shuffled.slice(0, half), shuffled.slice(half)].map((part) =>
          t.publish(part.map((key) => rec('moves', key, String(round)))),
        ),
      );
    }
    const sub = await t.subscribe({ group: 'g', topics: ['moves'] });
    const got = await drain(sub, (all) => all.length >= keys.length * rounds, 10_000, 333);
    assert.equal(got.length, keys.length * rounds);
    const seq = new Map<string, number>();
    const partitionOf = new Map<string, number>();
    const lastOffset = new Map<number, bigint>();
    for (const r of got) {
      assert.equal(Number(r.value), seq.get(r.key) ?? 0, `key ${r.key} delivered out of order`);
      seq.set(r.key, Number(r.value) + 1);
      assert.equal(partitionOf.get(r.key) ?? r.partition, r.partition);
      partitionOf.set(r.key, r.partition);
      const prev = lastOffset.get(r.partition);
      assert.ok(prev === undefined || BigInt(r.offset) > prev, 'offsets increase within a partition');
      lastOffset.set(r.partition, BigInt(r.offset));
    }
    assert.ok(new Set(partitionOf.values()).size > 1, 'keys spread over several partitions');
  });

  test('read() reads any partition without a group', async ({ t }) => {
    await ensure(t, 'tools', 'event', 2);
    const acks = await publishMany(t, 'tools', 12, 'v');
    const all = await t.read('tools', { to: 'earliest' }, 100);
    assert.deepEqual(all.map(at).sort(), acks.map(at).sort());
    assert.equal((await t.read('tools', { to: 'earliest' }, 5)).length, 5);
    assert.deepEqual(await t.read('tools', { to: 'latest' }, 100), []);
    const p = acks[0]!.partition;
    const inP = acks.filter((a) => a.partition === p);
    const from = await t.read('tools', { to: 'offset', partition: p, offset: inP[1]!.offset }, 100);
    assert.deepEqual(from.map(at), inP.slice(1).map(at), 'one partition, in offset order, from the offset');
    assert.deepEqual(await t.read('tools', { to: 'time', time: Date.now() + 60_000 }, 100), []);
  });

  test('a payload over the limit is refused and nothing of the batch is written', async ({ t }) => {
    await ensure(t, 'big', 'event', 1);
    const big = 'x'.repeat(maxPayloadBytes + 1);
    await assert.rejects(t.publish([rec('big', 'a', 'small'), rec('big', 'b', big)]), (error: unknown) => {
      assert.equal((error as { code?: unknown }).code, 'SLUICE_PAYLOAD_TOO_LARGE');
      assert.equal((error as Error).name, 'PayloadTooLargeError');
      return true;
    });
    assert.deepEqual(await t.read('big', { to: 'earliest' }, 10), []);
    assert.equal((await t.publish([rec('big', 'a', 'x'.repeat(1000))])).length, 1);
  });

  test('unknown topics and conflicting topic declarations are refused', async ({ t }) => {
    await ensure(t, 'known', 'event', 2);
    await assertRejects(t.publish([rec('unknown', 'a', 'v')]), 'SLUICE_UNKNOWN_TOPIC', false);
    await assertRejects(
      t.publish([rec('known', 'a', 'v'), rec('unknown', 'a', 'v')]),
      'SLUICE_UNKNOWN_TOPIC',
    );
    assert.deepEqual(await t.read('known', { to: 'earliest' }, 10), [], 'nothing of the batch written');
    await ensure(t, 'known', 'event', 2);
    await assertRejects(ensure(t, 'known', 'event', 4), 'SLUICE_TOPIC_MISMATCH');
    await assertRejects(ensure(t, 'known', 'entity', 2), 'SLUICE_TOPIC_MISMATCH');
  });
}
