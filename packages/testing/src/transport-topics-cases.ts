// Topic kinds: message retention, event history, entity compaction and tombstones.
import assert from 'node:assert/strict';
import type { ConsumedRecord } from '@sluice/core';

import {
  assertQuiet,
  drain,
  publishMany,
  rec,
  type SuiteContext,
  sleep,
} from './transport-conformance-kit.js';

/** Topic kinds: message retention, event history, entity compaction and tombstones. */
export function topicsCases(s: SuiteContext): void {
  const { options, messageRetentionMs, test, ensure } = s;
  test('message topics drop records older than their retention', async ({ t }) => {
    await ensure(t, 'pings', 'message', 2, messageRetentionMs);
    await publishMany(t, 'pings', 5, 'old');
    assert.equal((await t.read('pings', { to: 'earliest' }, 100)).length, 5);
    await sleep(messageRetentionMs + 250);
    assert.deepEqual(await t.read('pings', { to: 'earliest' }, 100), []);
    const sub = await t.subscribe({ group: 'g', topics: ['pings'] });
    assert.deepEqual(await sub.poll({ maxRecords: 100, maxWaitMs: 0 }), []);
    await t.publish([rec('pings', 'k', 'fresh')]);
    const got = await drain(sub, (all) => all.length >= 1);
    assert.deepEqual(
      got.map((r) => r.value),
      ['fresh'],
    );
  });

  test('event topics keep every record', async ({ t }) => {
    await ensure(t, 'history', 'event', 2);
    await publishMany(t, 'history', 6, 'a');
    await publishMany(t, 'history', 6, 'b');
    await sleep(200);
    const all = await t.read('history', { to: 'earliest' }, 100);
    assert.equal(all.length, 12);
    assert.equal(all.filter((r) => r.key === 'k0').length, 2);
  });

  test('entity topics keep the latest value per key; tombstones delete', async ({ t }) => {
    await ensure(t, 'courses', 'entity', 4);
    await t.publish([rec('courses', 'c1', 'v1'), rec('courses', 'c2', 'v1'), rec('courses', 'c1', 'v2')]);
    await t.publish([rec('courses', 'c3', 'v1'), rec('courses', 'c1', 'v3'), rec('courses', 'c2', null)]);
    const latest = (rs: ConsumedRecord[]) => Object.fromEntries(rs.map((r) => [r.key, r.value]).sort());
    const read = await t.read('courses', { to: 'earliest' }, 100);
    assert.equal(read.length, 3, 'one record per key');
    assert.deepEqual(latest(read), { c1: 'v3', c2: null, c3: 'v1' });
    const sub = await t.subscribe({ group: 'g', topics: ['courses'] });
    const got = await drain(sub, (all) => all.length >= 3);
    assert.deepEqual(latest(got), { c1: 'v3', c2: null, c3: 'v1' });
    await assertQuiet(sub);
    if (options.tombstoneRetentionMs !== undefined) {
      const deadline = Date.now() + options.tombstoneRetentionMs + 5000;
      let keys = read.map((r) => r.key);
      while (keys.includes('c2') && Date.now() < deadline) {
        await sleep(25);
        keys = (await t.read('courses', { to: 'earliest' }, 100)).map((r) => r.key);
      }
      assert.deepEqual(keys.sort(), ['c1', 'c3'], 'the tombstone itself goes after tombstoneRetentionMs');
    }
  });
}
