// Consumer groups: splitting and handing over partitions, session timeouts, at least once, ephemeral readers, seek and resetOffsets.
import assert from 'node:assert/strict';

import {
  assertQuiet,
  assertRejects,
  at,
  drain,
  publishMany,
  rec,
  type SuiteContext,
  settle,
  sleep,
  tp,
} from './transport-conformance-kit.js';

/** Consumer groups: splitting and handing over partitions, session timeouts, at least once, ephemeral readers, seek and resetOffsets. */
export function groupsCases(s: SuiteContext): void {
  const { sessionTimeoutMs, test, ensure } = s;
  test('two members split the partitions; a closing member hands over from the committed offsets', async ({
    t,
  }) => {
    await ensure(t, 'split', 'event', 8);
    const a = await t.subscribe({ group: 'g', topics: ['split'], memberId: 'member-a' });
    const b = await t.subscribe({ group: 'g', topics: ['split'], memberId: 'member-b' });
    await settle([a, b], 8);
    const pa = a.assignment().map(tp);
    const pb = b.assignment().map(tp);
    assert.ok(pa.length > 0 && pb.length > 0, `both members get partitions: a=${pa} b=${pb}`);
    assert.deepEqual([...pa, ...pb].sort(), [0, 1, 2, 3, 4, 5, 6, 7], 'every partition once, none twice');

    const round1 = await publishMany(t, 'split', 80, 'r1');
    const mineA = round1.filter((ack) => pa.includes(ack.partition)).length;
    const gotA = await drain(a, (all) => all.length >= mineA);
    const gotB = await drain(b, (all) => all.length >= 80 - mineA);
    assert.ok(gotA.every((r) => pa.includes(r.partition)) && gotB.every((r) => pb.includes(r.partition)));
    assert.equal(new Set([...gotA, ...gotB].map(at)).size, 80, 'each record delivered to one member');
    await a.commit(gotA);
    await b.commit(gotB);

    const round2 = await publishMany(t, 'split', 80, 'r2');
    const mine2 = round2.filter((ack) => pa.includes(ack.partition)).length;
    const polled = await drain(a, (all) => all.length >= mine2);
    assert.equal(polled.length, mine2);
    // Commits for partitions a member does not own are ignored.
    const foreign = round2.filter((ack) => pb.includes(ack.partition));
    await a.commit(foreign.map((ack) => ({ ...ack, key: 'x', value: null, headers: {}, timestamp: 0 })));
    await a.close(); // polled, never committed
    await a.close(); // idempotent
    await assertRejects(a.poll({ maxRecords: 1, maxWaitMs: 0 }), 'SLUICE_CLOSED');

    const taken = await drain(b, (all) => all.length >= 80 && b.assignment().length === 8);
    assert.equal(b.assignment().length, 8, 'the remaining member owns every partition');
    assert.deepEqual(
      taken.map(at).sort(),
      round2.map(at).sort(),
      'uncommitted records again, committed never',
    );
    await assertQuiet(b);
    await b.close(); // round 2 was never committed by its owners
    const c = await t.subscribe({ group: 'g', topics: ['split'], memberId: 'member-c' });
    const replay = await drain(c, (all) => all.length >= 80);
    assert.deepEqual(replay.map(at).sort(), round2.map(at).sort());
  });

  test('a member that stops heartbeating loses its partitions after the session timeout', async (ctx) => {
    const { h, t } = ctx;
    if (h.connect === undefined || h.crash === undefined)
      return ctx.skip('the harness has no connect and crash');
    await ensure(t, 'crash', 'event', 4);
    const other = await h.connect();
    ctx.opened.push(other);
    const a = await other.subscribe({ group: 'g', topics: ['crash'], memberId: 'member-a' });
    const b = await t.subscribe({ group: 'g', topics: ['crash'], memberId: 'member-b' });
    await settle([a, b], 4);
    const pa = a.assignment().map(tp);
    assert.ok(pa.length > 0 && b.assignment().length > 0);
    const round1 = await publishMany(t, 'crash', 40, 'r1');
    const gotA = await drain(a, (all) => all.length >= round1.filter((x) => pa.includes(x.partition)).length);
    await a.commit(gotA);
    const round2 = await publishMany(t, 'crash', 40, 'r2');
    const lost = round2.filter((x) => pa.includes(x.partition));
    const polled = await drain(a, (all) => all.length >= lost.length);
    assert.equal(polled.length, lost.length);
    const ownB = await drain(b, (all) => all.length >= 80 - gotA.length - lost.length);
    await b.commit(ownB);

    const crashedAt = Date.now();
    await h.crash(other);
    // Before the timeout the dead member still owns its partitions; after it, one waiting poll takes them over.
    assert.deepEqual(await b.poll({ maxRecords: 100, maxWaitMs: 0 }), []);
    const first = await b.poll({ maxRecords: 100, maxWaitMs: sessionTimeoutMs * 10 + 10_000 });
    const elapsed = Date.now() - crashedAt;
    assert.ok(first.length > 0, 'a waiting poll notices the dead member without new publishes');
    assert.ok(elapsed >= sessionTimeoutMs * 0.5, `took over after ${elapsed} ms, before the session timeout`);
    assert.ok(elapsed < sessionTimeoutMs * 2 + 1000, `took over after ${elapsed} ms, long after the timeout`);
    const taken = [...first, ...(await drain(b, (all) => all.length + first.length >= lost.length))];
    assert.equal(b.assignment().length, 4);
    assert.deepEqual(taken.map(at).sort(), lost.map(at).sort(), 'redelivered from the committed offsets');
  });

  test('at least once: records polled but not committed reach the next member', async ({ t }) => {
    await ensure(t, 'alo', 'event', 2);
    const acks = await publishMany(t, 'alo', 10, 'v');
    const first = await t.subscribe({ group: 'g', topics: ['alo'] });
    const got = await drain(first, (all) => all.length >= 10);
    const inP = got.filter((r) => r.partition === got[0]!.partition);
    await first.commit([inP[1]!]); // done with the first two records of one partition, nothing else
    await first.commit([inP[0]!]); // commits never move back
    await first.close();
    const next = await t.subscribe({ group: 'g', topics: ['alo'] });
    const again = await drain(next, (all) => all.length >= 8);
    await assertQuiet(next);
    const done = new Set([at(inP[0]!), at(inP[1]!)]);
    assert.deepEqual(
      again.map(at).sort(),
      acks
        .map(at)
        .filter((p) => !done.has(p))
        .sort(),
    );
  });

  test('an ephemeral reader sees every partition and commits nothing', async ({ t }) => {
    await ensure(t, 'tail', 'event', 4);
    const member = await t.subscribe({ group: 'g', topics: ['tail'] });
    await settle([member], 4);
    const acks = await publishMany(t, 'tail', 20, 'v');
    const reader = await t.subscribe({ group: 'g', topics: ['tail'], ephemeral: true });
    const got = await drain(reader, (all) => all.length >= 20);
    assert.deepEqual(got.map(at).sort(), acks.map(at).sort());
    await reader.commit(got);
    assert.equal(member.assignment().length, 4, 'the reader took no partitions from the group');
    assert.equal((await drain(member, (all) => all.length >= 20)).length, 20, 'the reader committed nothing');
  });

  test('seek moves a member to an offset, a time, the earliest and the latest record', async ({ t }) => {
    await ensure(t, 'seek', 'event', 3);
    const early = await t.publish(Array.from({ length: 5 }, (_, i) => rec('seek', 'a', `e${i}`)));
    await sleep(30);
    const time = Date.now();
    await sleep(5);
    const late = await t.publish(Array.from({ length: 5 }, (_, i) => rec('seek', 'a', `l${i}`)));
    const p = early[0]!.partition;
    const sub = await t.subscribe({ group: 'g', topics: ['seek'] });
    const values = async (n: number) => (await drain(sub, (all) => all.length >= n)).map((r) => r.value);
    assert.equal((await values(10)).length, 10);
    await sub.seek('seek', { to: 'time', time });
    assert.deepEqual(await values(5), ['l0', 'l1', 'l2', 'l3', 'l4']);
    await assertQuiet(sub);
    await sub.seek('seek', { to: 'offset', partition: p, offset: early[3]!.offset });
    assert.deepEqual(await values(7), ['e3', 'e4', 'l0', 'l1', 'l2', 'l3', 'l4']);
    await sub.seek('seek', { to: 'earliest' });
    assert.equal((await values(10)).length, 10);
    await sub.seek('seek', { to: 'latest' });
    await assertQuiet(sub);
    const [ack] = await t.publish([rec('seek', 'a', 'after')]);
    assert.deepEqual(await values(1), ['after']);
    assert.ok(BigInt(ack!.offset) > BigInt(late[4]!.offset));
  });

  test('resetOffsets moves a stopped group to the earliest, an offset, the latest or a time', async ({
    t,
  }) => {
    await ensure(t, 'replay', 'event', 2);
    const early = await t.publish(Array.from({ length: 4 }, (_, i) => rec('replay', 'a', `e${i}`)));
    await sleep(30);
    const time = Date.now();
    await sleep(5);
    await t.publish(Array.from({ length: 3 }, (_, i) => rec('replay', 'a', `l${i}`)));
    const run = async (n: number) => {
      const sub = await t.subscribe({ group: 'g', topics: ['replay'] });
      const got = await drain(sub, (all) => all.length >= n);
      await assertQuiet(sub);
      await sub.commit(got);
      await sub.close();
      return got.map((r) => r.value);
    };
    assert.equal((await run(7)).length, 7);
    assert.deepEqual(await run(0), []);
    await t.resetOffsets('g', 'replay', { to: 'earliest' });
    assert.equal((await run(7)).length, 7);
    const p = early[0]!.partition;
    await t.resetOffsets('g', 'replay', { to: 'offset', partition: p, offset: early[2]!.offset });
    assert.deepEqual(await run(5), ['e2', 'e3', 'l0', 'l1', 'l2']);
    await t.resetOffsets('g', 'replay', { to: 'time', time });
    assert.deepEqual(await run(3), ['l0', 'l1', 'l2']);
    await t.resetOffsets('g', 'replay', { to: 'earliest' });
    await t.resetOffsets('g', 'replay', { to: 'latest' });
    assert.deepEqual(await run(0), []);
  });
}
