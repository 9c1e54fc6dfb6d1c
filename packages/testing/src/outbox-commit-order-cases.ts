import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createRelay, decodeEnvelope, type OutboxStore } from '@sluice/core';
import { sleep } from '@sluice/core/adapter';
import { createMemoryTransport } from '@sluice/core/testing';
import {
  assertExactlyOnceInOrder,
  lateCommits,
  readLikeARelay,
  runWriters,
} from './outbox-concurrent-writers.js';
import {
  commitItems,
  ItemAdded,
  itemsTopic,
  type OutboxStoreHarness,
  SOURCE,
} from './outbox-store-harness.js';

const keysOf = (rows: readonly { key: string }[]) => rows.map((r) => r.key);

/**
 * The commit-order cases of {@link runOutboxStoreConformance}: a lower position committing after a higher one
 * was read is not skipped, and under concurrent writers every committed event is read once, in order per key.
 */
export function outboxCommitOrderCases<S extends OutboxStore>(harness: OutboxStoreHarness<S>): void {
  it('a row at a lower position that commits after a higher one was read is still returned, once', {
    skip: harness.overlappingWriters ? false : 'one writer at a time: a lower position always commits first',
  }, async () => {
    const store = await harness.open(SOURCE);
    const early = await harness.writer(store);
    const late = await harness.writer(store);
    await early.begin();
    const low = await early.append(ItemAdded, { itemId: 'I-1', title: 'early' }); // lower position
    await commitItems(late, 'I-2'); // higher position, commits first
    const first = await store.readPending(undefined, 100);
    assert.deepEqual(keysOf(first.rows), ['I-2']);
    await early.commit();
    const second = await store.readPending(first.cursor, 100);
    assert.deepEqual(
      second.rows.map((r) => r.id),
      [low.id],
    );
    assert.ok(second.rows[0]!.position < first.rows[0]!.position, 'the late row has the lower position');
    assert.deepEqual((await store.readPending(second.cursor, 100)).rows, [], 'returned once');
  });

  it('8 concurrent writers, 20 keys, long and rolled-back transactions, a relay re-reading and acknowledging late: every committed event once, gap-free in order per key', {
    timeout: 120_000,
  }, async (t) => {
    const store = await harness.open(SOURCE);
    const relay = await harness.open(SOURCE);
    let total: number | undefined;
    const reading = readLikeARelay(relay, () => total, 30_000);
    const run = await runWriters(harness, store, 8, 20, Date.now() + 4000);
    total = run.committed.length;
    const { returned, reads } = await reading;
    assertExactlyOnceInOrder(run, returned);
    const late = lateCommits(run, new Map(returned.map((r) => [r.id, r.position])));
    if (harness.overlappingWriters) {
      assert.ok(late > 0, 'no row committed after a higher position: the test proved nothing');
    }
    assert.equal((await relay.stats()).pending, 0);
    t.diagnostic(
      `${run.committed.length} committed, ${run.rolledBack.length} rolled back (${run.deadlocks} deadlocks), ` +
        `${late} committed behind a higher position, ${reads} reads`,
    );
  });

  it('the core relay ships concurrent writers’ events to a transport: none lost, none rolled back, in order per key', {
    timeout: 120_000,
  }, async (t) => {
    const store = await harness.open(SOURCE);
    const outbox = await harness.open(SOURCE);
    const transport = createMemoryTransport();
    const relay = createRelay({
      outbox,
      transport,
      topics: [itemsTopic],
      batchSize: 50,
      idleWaitMs: 200,
      leaseTtlMs: 3000,
      ackIntervalMs: 20,
    }).start();
    const run = await runWriters(harness, store, 6, 12, Date.now() + 3000);
    const deadline = Date.now() + 30_000;
    while ((await outbox.stats()).pending > 0 && Date.now() < deadline) await sleep(50);
    await relay.stop();
    assert.equal((await outbox.stats()).pending, 0, 'the relay did not drain the outbox');
    const records = (await transport.read(itemsTopic.name, { to: 'earliest' }, 1_000_000)).sort(
      (a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset),
    );
    assertExactlyOnceInOrder(
      run,
      records.map((r) => {
        const e = decodeEnvelope(r.value);
        return { id: e.id, key: r.key, sequence: e.sluiceseq };
      }),
    );
    t.diagnostic(`${records.length} published by the relay, ${run.rolledBack.length} rolled back`);
  });
}
