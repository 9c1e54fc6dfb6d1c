// Consumer lag: Transport.lag per partition, for a group that never committed, after partial and full commits,
// after a reset, and for an unknown topic.
import assert from 'node:assert/strict';
import type { ConsumedRecord, PartitionLag, PublishAck, Transport } from '@sluice/core';
import { assertRejects, drain, publishMany, type SuiteContext, sleep } from './transport-conformance-kit.js';

/** The partitions' lag as `partition:committed:lag` lines, for messages. */
const show = (lags: readonly PartitionLag[]) =>
  lags.map((l) => `${l.partition}:${l.committed ?? '-'}:${l.lag}`).join(' ');

/** Records per partition among `acks`. */
function countBy(acks: readonly PublishAck[], partitions: number): number[] {
  const counts = Array.from({ length: partitions }, () => 0);
  for (const ack of acks) counts[ack.partition]!++;
  return counts;
}

/** Reads `t.lag` until `expected` holds (commits may reach the store a moment after `commit` resolves). */
async function lagUntil(
  t: Transport,
  group: string,
  topic: string,
  expected: (lags: readonly PartitionLag[]) => boolean,
  timeoutMs = 3000,
): Promise<readonly PartitionLag[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lags = await t.lag(group, topic);
    if (expected(lags) || Date.now() > deadline) return lags;
    await sleep(50);
  }
}

/** Checks the shape of an answer: one entry per partition in order, decimal offsets, lag >= 0. */
function assertShape(lags: readonly PartitionLag[], partitions: number): void {
  assert.deepEqual(
    lags.map((l) => l.partition),
    Array.from({ length: partitions }, (_, p) => p),
    'one entry per partition, in partition order',
  );
  for (const l of lags) {
    assert.match(l.end, /^\d+$/, `end of partition ${l.partition} is a decimal offset`);
    if (l.committed !== null) assert.match(l.committed, /^\d+$/);
    assert.ok(Number.isSafeInteger(l.lag) && l.lag >= 0, `lag of partition ${l.partition} is ${l.lag}`);
  }
}

/** Consumer lag: `Transport.lag`. */
export function lagCases(s: SuiteContext): void {
  const { test, ensure, messageRetentionMs } = s;

  test('lag: a group that never committed lags by every record published, per partition; end moves with publishes', async ({
    t,
  }) => {
    await ensure(t, 'lag-new', 'event', 3);
    const empty = await t.lag('g', 'lag-new');
    assertShape(empty, 3);
    assert.deepEqual(
      show(empty),
      '0:-:0 1:-:0 2:-:0',
      'an empty topic: nothing committed, nothing to consume',
    );

    const first = await publishMany(t, 'lag-new', 30, 'a');
    const counts = countBy(first, 3);
    const after = await t.lag('g', 'lag-new');
    assertShape(after, 3);
    assert.deepEqual(
      after.map((l) => l.lag),
      counts,
      `every record published lags, per partition: ${show(after)}`,
    );
    assert.ok(after.every((l) => l.committed === null));
    for (const l of after) {
      const mine = first.filter((a) => a.partition === l.partition).map((a) => BigInt(a.offset));
      for (const offset of mine) {
        assert.ok(offset >= BigInt(empty[l.partition]!.end), 'records got offsets at or after the old end');
        assert.ok(BigInt(l.end) > offset, `end ${l.end} is past every record of partition ${l.partition}`);
      }
    }
    const last = first[first.length - 1]!;
    assert.equal(after[last.partition]!.end, String(BigInt(last.offset) + 1n), 'end is the next offset');
    assert.deepEqual(
      await t.lag('another-group', 'lag-new'),
      after,
      'the same for any group that never read',
    );

    const more = await publishMany(t, 'lag-new', 7, 'b');
    const moved = await t.lag('g', 'lag-new');
    const added = countBy(more, 3);
    assert.deepEqual(
      moved.map((l) => l.lag),
      counts.map((n, p) => n + added[p]!),
    );
    const newest = more[more.length - 1]!;
    assert.equal(
      moved[newest.partition]!.end,
      String(BigInt(newest.offset) + 1n),
      'end moved with publishes',
    );
  });

  test('lag: after the group commits part of each partition, lag is exactly what remains; 0 once all is committed', async ({
    t,
  }) => {
    await ensure(t, 'lag-commit', 'event', 2);
    const acks = await publishMany(t, 'lag-commit', 20, 'v');
    const counts = countBy(acks, 2);
    const sub = await t.subscribe({ group: 'g', topics: ['lag-commit'] });
    const got = await drain(sub, (all) => all.length >= 20);
    assert.equal(got.length, 20);
    const byPartition = [0, 1].map((p) => got.filter((r) => r.partition === p));
    // Done with the first third of partition 0 and the first two thirds of partition 1.
    const done = byPartition.map((records, p) => Math.floor((records.length * (p + 1)) / 3));
    const commits = byPartition.flatMap((records, p) => (done[p]! > 0 ? [records[done[p]! - 1]!] : []));
    await sub.commit(commits);
    const expected = counts.map((n, p) => n - done[p]!);
    const partial = await lagUntil(t, 'g', 'lag-commit', (l) => l.every((x, p) => x.lag === expected[p]));
    assertShape(partial, 2);
    assert.deepEqual(
      partial.map((l) => l.lag),
      expected,
      `lag is what remains after the committed position: ${show(partial)}`,
    );
    for (const [p, records] of byPartition.entries()) {
      const committed: ConsumedRecord | undefined = records[done[p]! - 1];
      assert.equal(
        partial[p]!.committed,
        committed === undefined ? null : String(BigInt(committed.offset) + 1n),
        'committed is the offset after the last record committed',
      );
    }

    await sub.commit(got);
    const caughtUp = await lagUntil(t, 'g', 'lag-commit', (l) => l.every((x) => x.lag === 0));
    assert.deepEqual(
      caughtUp.map((l) => l.lag),
      [0, 0],
      `all committed: ${show(caughtUp)}`,
    );
    for (const [p, records] of byPartition.entries()) {
      const newest = records[records.length - 1];
      // Not `end` itself: on NATS every partition of a topic shares the stream's sequence, so `end` is past
      // other partitions' records too.
      if (newest !== undefined) assert.equal(caughtUp[p]!.committed, String(BigInt(newest.offset) + 1n));
    }
    await sub.close();

    // Readable with no member running; a reset to the earliest record lags by everything again.
    const more = await publishMany(t, 'lag-commit', 4, 'w');
    const after = await t.lag('g', 'lag-commit');
    assert.deepEqual(
      after.map((l) => l.lag),
      countBy(more, 2),
      'only the records published after the last commit lag',
    );
    await t.resetOffsets('g', 'lag-commit', { to: 'earliest' });
    const reset = await lagUntil(t, 'g', 'lag-commit', (l) =>
      l.every((x, p) => x.lag === counts[p]! + countBy(more, 2)[p]!),
    );
    assert.deepEqual(
      reset.map((l) => l.lag),
      counts.map((n, p) => n + countBy(more, 2)[p]!),
      `reset to earliest: ${show(reset)}`,
    );
  });

  test('lag: records a message topic no longer delivers (older than its retention) do not count', async ({
    t,
    note,
  }) => {
    await ensure(t, 'lag-expiry', 'message', 2, messageRetentionMs);
    const publishedAt = Date.now();
    const acks = await publishMany(t, 'lag-expiry', 6, 'old');
    const fresh = await t.lag('g', 'lag-expiry');
    if (Date.now() - publishedAt < messageRetentionMs) {
      assert.deepEqual(
        fresh.map((l) => l.lag),
        countBy(acks, 2),
        'every record lags while it is retained',
      );
    } else {
      note(
        `publish and lag took ${Date.now() - publishedAt} ms, past the retention: not checked before expiry`,
      );
    }
    await sleep(messageRetentionMs + 250);
    assert.deepEqual(await t.read('lag-expiry', { to: 'earliest' }, 100), [], 'expired');
    const expired = await t.lag('g', 'lag-expiry');
    assert.deepEqual(
      expired.map((l) => l.lag),
      [0, 0],
      `expired records are not left to consume: ${show(expired)}`,
    );
    const last = acks[acks.length - 1]!;
    assert.equal(
      expired[last.partition]!.end,
      String(BigInt(last.offset) + 1n),
      'the end does not move back',
    );
  });

  test('lag: an unknown topic is refused with SLUICE_UNKNOWN_TOPIC', async ({ t }) => {
    await assertRejects(t.lag('g', 'lag-never-declared'), 'SLUICE_UNKNOWN_TOPIC');
  });
}
