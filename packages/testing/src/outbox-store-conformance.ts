import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ContractViolationError, decodeEnvelope, type OutboxStore } from '@sluice/core';
import { sleep } from '@sluice/core/adapter';
import { outboxCommitOrderCases } from './outbox-commit-order-cases.js';
import {
  commitItems,
  ItemAdded,
  ItemNoted,
  itemsTopic,
  notesTopic,
  OTHER_SOURCE,
  type OutboxStoreHarness,
  readAll,
  SOURCE,
} from './outbox-store-harness.js';

const keysOf = (rows: readonly { key: string }[]) => rows.map((r) => r.key);
const sequencesOf = (rows: readonly { value: string | null }[]) =>
  rows.map((r) => decodeEnvelope(r.value).sluiceseq);

/**
 * The behaviour every {@link OutboxStore} must show on its real database: appends commit and roll back with
 * the caller's transaction, each (source, topic, key) is numbered 1, 2, 3, ... without gaps, reads return
 * committed rows in order per key and never skip one that commits late, acknowledgements remove rows, leases
 * give each key one relay at a time and pass on at expiry, and a waiting relay wakes soon after a commit.
 */
export function runOutboxStoreConformance<S extends OutboxStore>(
  name: string,
  harness: OutboxStoreHarness<S>,
): void {
  describe(`${name}: OutboxStore conformance`, () => {
    beforeEach(() => harness.setup());
    afterEach(() => harness.teardown());

    it('an append in a committed transaction is read with its full envelope; not before the commit', async () => {
      const store = await harness.open(SOURCE);
      const relay = await harness.open(SOURCE);
      const w = await harness.writer(store);
      await w.begin();
      const r = await w.append(
        ItemAdded,
        { itemId: 'I-7', title: 'Grace "G" Hopper \u2603 \\n' },
        { correlationid: 'op-1', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
      );
      assert.deepEqual([r.key, r.sequence], ['I-7', 1]);
      assert.deepEqual(
        (await relay.readPending(undefined, 10)).rows,
        [],
        'another connection, before commit',
      );
      await w.commit();
      const [row, ...more] = await readAll(relay);
      assert.deepEqual(more, []);
      assert.deepEqual([row!.id, row!.topic, row!.key], [r.id, itemsTopic.name, 'I-7']);
      const e = decodeEnvelope(row!.value);
      assert.deepEqual(
        [e.id, e.source, e.type, e.subject, e.sluiceseq, e.dataschema, e.correlationid, e.causationid],
        [r.id, SOURCE, 'item.added', 'I-7', 1, ItemAdded.dataschema, 'op-1', undefined],
      );
      assert.deepEqual(e.data, { itemId: 'I-7', title: 'Grace "G" Hopper \u2603 \\n', count: 0 });
    });

    it('a rolled-back append is never read and does not use up its sequence number', async () => {
      const store = await harness.open(SOURCE);
      const w = await harness.writer(store);
      await w.begin();
      const gone = await w.append(ItemAdded, { itemId: 'I-1', title: 'rolled back' });
      assert.equal(gone.sequence, 1);
      await w.rollback();
      assert.deepEqual(await readAll(store), []);
      const [kept] = await commitItems(w, 'I-1');
      assert.equal(kept!.sequence, 1, 'the number is given again');
      assert.deepEqual(
        (await readAll(store)).map((r) => r.id),
        [kept!.id],
      );
      assert.equal((await store.stats()).pending, 1);
    });

    it('numbers events 1, 2, 3 per (source, topic, key), without gaps, independently', async () => {
      const store = await harness.open(SOURCE);
      const other = await harness.open(OTHER_SOURCE);
      const w = await harness.writer(store);
      const wo = await harness.writer(other);
      const got = [
        ...(await commitItems(w, 'I-1', 'I-2', 'I-1')),
        ...(await commitItems(wo, 'I-1')),
        ...(await commitItems(w, 'I-1', 'I-2')),
      ].map((a) => [a.key, a.sequence]);
      await w.begin();
      const note = await w.append(ItemNoted, { itemId: 'I-1' });
      await w.commit();
      assert.deepEqual(got, [
        ['I-1', 1],
        ['I-2', 1],
        ['I-1', 2],
        ['I-1', 1],
        ['I-1', 3],
        ['I-2', 2],
      ]);
      assert.equal(note.sequence, 1, 'another topic counts apart');
      const rows = await readAll(store);
      const chain = rows
        .filter((r) => r.key === 'I-1' && r.topic === itemsTopic.name)
        .map((r) => decodeEnvelope(r.value))
        .filter((e) => e.source === SOURCE)
        .map((e) => e.sluiceseq);
      assert.deepEqual(chain, [1, 2, 3], 'read in sequence order');
    });

    it('an invalid event throws ContractViolationError and writes nothing; the transaction goes on', async () => {
      const store = await harness.open(SOURCE);
      const w = await harness.writer(store);
      await w.begin();
      await assert.rejects(w.append(ItemAdded, { itemId: 'I-1', title: '' }), (e: unknown) => {
        assert.ok(e instanceof ContractViolationError, String(e));
        assert.equal(e.eventType, 'item.added');
        assert.equal(e.issues[0]!.path, 'title');
        assert.match(e.message, /Nothing was written/);
        return true;
      });
      await assert.rejects(
        w.append(ItemAdded, { itemId: 'item-1', title: 'a key outside its key type' }),
        (e: unknown) => e instanceof ContractViolationError && e.issues[0]!.path === 'itemId',
      );
      const ok = await w.append(ItemAdded, { itemId: 'I-1', title: 'fine' });
      await w.commit();
      assert.equal(ok.sequence, 1, 'the refused event took no number');
      assert.deepEqual(
        (await readAll(store)).map((r) => r.id),
        [ok.id],
      );
    });

    it('pages by limit in position order; the same cursor returns the same rows again', async () => {
      const store = await harness.open(SOURCE);
      const w = await harness.writer(store);
      for (let i = 1; i <= 7; i++) await commitItems(w, `I-${i % 3}`);
      const first = await store.readPending(undefined, 3);
      assert.equal(first.rows.length, 3);
      assert.deepEqual((await store.readPending(undefined, 3)).rows, first.rows, 'from the start again');
      const second = await store.readPending(first.cursor, 3);
      assert.deepEqual((await store.readPending(first.cursor, 3)).rows, second.rows, 'a retried batch');
      const third = await store.readPending(second.cursor, 3);
      assert.equal(third.rows.length, 1);
      assert.deepEqual((await store.readPending(third.cursor, 3)).rows, []);
      const all = [...first.rows, ...second.rows, ...third.rows];
      const positions = all.map((r) => r.position);
      assert.deepEqual(
        positions,
        [...positions].sort((a, b) => a - b),
      );
      assert.equal(new Set(all.map((r) => r.id)).size, 7);
      for (const key of ['I-0', 'I-1', 'I-2']) {
        const seqs = sequencesOf(all.filter((r) => r.key === key));
        assert.deepEqual(
          seqs,
          seqs.map((_, i) => i + 1),
          key,
        );
      }
    });

    it('acknowledge removes exactly the given rows, idempotently; a later append comes after the cursor', async () => {
      const store = await harness.open(SOURCE);
      const w = await harness.writer(store);
      await commitItems(w, 'I-1', 'I-2', 'I-3', 'I-4', 'I-5', 'I-1');
      const batch = await store.readPending(undefined, 10);
      assert.equal(batch.rows.length, 6);
      await store.acknowledge([batch.rows[1]!, batch.rows[3]!]);
      assert.deepEqual(keysOf(await readAll(store)), ['I-1', 'I-3', 'I-5', 'I-1']);
      await store.acknowledge([batch.rows[1]!, batch.rows[3]!]);
      await store.acknowledge([]);
      assert.equal((await store.stats()).pending, 4);
      await store.acknowledge(batch.rows);
      assert.deepEqual(await readAll(store), []);
      assert.equal((await store.stats()).pending, 0);
      const [next] = await commitItems(w, 'I-6');
      const after = (await store.readPending(batch.cursor, 10)).rows;
      assert.deepEqual(
        after.map((r) => r.id),
        [next!.id],
      );
      assert.ok(
        after[0]!.position > batch.rows[5]!.position,
        'positions are never reused after acknowledged rows',
      );
    });

    it('listRows pages the pending rows of one topic; listChains keeps every chain’s counter after delivery', async (t) => {
      const store = await harness.open(SOURCE);
      if (store.listRows === undefined || store.listChains === undefined) {
        t.skip('the store lists neither rows nor chains');
        return;
      }
      const w = await harness.writer(store);
      const appended = await commitItems(w, 'I-1', 'I-2', 'I-1', 'I-3');
      await w.begin();
      await w.append(ItemNoted, { itemId: 'I-1' });
      await w.commit();
      const pending = (await store.readPending(undefined, 10)).rows;
      await store.acknowledge([pending[0]!, pending[1]!]); // I-1 #1 and I-2 #1 delivered
      const listed = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.listRows(itemsTopic.name, cursor, 1);
        listed.push(...page.rows);
        cursor = page.cursor;
        assert.ok(++pages <= 10, 'the listing does not end');
      } while (cursor !== undefined);
      assert.equal(new Set(listed.map((r) => r.id)).size, listed.length, 'a row listed twice');
      const pendingListed = listed.filter((r) => !r.delivered);
      assert.deepEqual(
        pendingListed.map((r) => [r.id, r.source, r.key, r.sequence]),
        appended.slice(2).map((a) => [a.id, SOURCE, a.key, a.sequence]),
      );
      for (const r of listed.filter((l) => l.delivered)) {
        assert.ok(
          appended.slice(0, 2).some((a) => a.id === r.id),
          `${r.id} listed as delivered but never acknowledged`,
        );
      }
      const positions = listed.map((r) => r.position);
      assert.deepEqual(
        positions,
        [...positions].sort((a, b) => a - b),
      );
      assert.deepEqual((await store.listRows('nothing', undefined, 10)).rows, []);
      const first = await store.listChains(itemsTopic.name, undefined, 2);
      const rest = await store.listChains(itemsTopic.name, first.cursor, 2);
      assert.equal(rest.cursor, undefined);
      assert.deepEqual(
        [...first.chains, ...rest.chains].map((c) => [c.source, c.key, c.appended]),
        [
          [SOURCE, 'I-1', 2],
          [SOURCE, 'I-2', 1],
          [SOURCE, 'I-3', 1],
        ],
        'I-2 was delivered, its chain remains',
      );
      assert.deepEqual((await store.listChains(notesTopic.name, undefined, 10)).chains, [
        { source: SOURCE, key: 'I-1', appended: 1 },
      ]);
    });

    it('leases: one owner holds every partition, a second is refused until expiry, then takes over; release hands over at once', async () => {
      const a = await harness.open(SOURCE);
      const b = await harness.open(SOURCE);
      const first = await a.acquireLease('relay-a', 300);
      assert.ok(first.partitionCount >= 1);
      const every = Array.from({ length: first.partitionCount }, (_, i) => i);
      assert.deepEqual(first.partitions, every, 'the only owner holds everything');
      assert.deepEqual((await a.acquireLease('relay-a', 300)).partitions, every, 'the holder renews');
      assert.deepEqual(
        (await b.acquireLease('relay-b', 300)).partitions,
        [],
        'refused while the lease is live',
      );
      await b.releaseLease('relay-b'); // not a holder: no effect
      assert.deepEqual((await b.acquireLease('relay-b', 300)).partitions, []);
      await sleep(450); // relay-a died: no renewal
      assert.deepEqual((await b.acquireLease('relay-b', 300)).partitions, every, 'taken over after expiry');
      assert.deepEqual((await a.acquireLease('relay-a', 300)).partitions, [], 'the old holder lost it');
      await b.releaseLease('relay-b');
      assert.deepEqual((await a.acquireLease('relay-a', 10_000)).partitions, every, 'at once after release');
      assert.deepEqual((await b.acquireLease('relay-b', 10_000)).partitions, []);
    });

    it('leases: owners renewing together end with disjoint shares covering every partition', async () => {
      const owners = await Promise.all([0, 1, 2].map(() => harness.open(SOURCE)));
      let shares: (readonly number[])[] = [];
      let count = 1;
      for (let round = 0; round < 6; round++) {
        const leases = await Promise.all(owners.map((o, i) => o.acquireLease(`relay-${i}`, 5000)));
        shares = leases.map((l) => l.partitions);
        count = leases[0]!.partitionCount;
        const all = shares.flat();
        assert.equal(
          new Set(all).size,
          all.length,
          `round ${round}: a partition held twice: ${JSON.stringify(shares)}`,
        );
      }
      assert.deepEqual(
        shares.flat().sort((x, y) => x - y),
        Array.from({ length: count }, (_, i) => i),
        'every partition has an owner',
      );
      const sizes = shares.map((s) => s.length);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= Math.ceil(count / 3), `uneven: ${sizes}`);
    });

    it('stats() reports committed pending rows, the age of the oldest, and the lease owners', async () => {
      const store = await harness.open(SOURCE);
      const w = await harness.writer(store);
      const empty = await store.stats();
      assert.deepEqual([empty.pending, empty.oldestPendingAgeMs], [0, null]);
      await commitItems(w, 'I-1', 'I-2');
      await w.begin();
      await w.append(ItemAdded, { itemId: 'I-3', title: 'uncommitted' });
      await sleep(60);
      const before = await store.stats().finally(() => w.rollback());
      assert.equal(before.pending, 2, 'only committed rows');
      assert.ok((before.oldestPendingAgeMs ?? 0) >= 50, `oldest ${before.oldestPendingAgeMs}`);
      assert.equal(
        before.partitions.reduce((n, p) => n + p.pending, 0),
        2,
        'partitions add up',
      );
      await store.acquireLease('relay-x', 10_000);
      const owned = await store.stats();
      assert.ok(owned.partitions.length >= 1);
      assert.ok(
        owned.partitions.every((p) => p.owner === 'relay-x' && (p.leaseExpiresInMs ?? 0) > 5000),
        JSON.stringify(owned.partitions),
      );
      await store.acknowledge((await store.readPending(undefined, 10)).rows);
      const after = await store.stats();
      assert.deepEqual([after.pending, after.oldestPendingAgeMs], [0, null]);
    });

    it('a relay waiting in waitForAppend reads a row committed by another connection promptly', async () => {
      const store = await harness.open(SOURCE);
      const relay = await harness.open(SOURCE);
      const w = await harness.writer(store);
      assert.deepEqual((await relay.readPending(undefined, 10)).rows, []);
      let committedAt = 0;
      const found = (async () => {
        for (;;) {
          await relay.waitForAppend(5000);
          const rows = (await relay.readPending(undefined, 10)).rows;
          if (rows.length > 0) return performance.now();
        }
      })();
      await sleep(100);
      await commitItems(w, 'I-1');
      committedAt = performance.now();
      const at = await found;
      assert.ok(
        at - committedAt < harness.wakeWithinMs,
        `read ${(at - committedAt).toFixed(1)} ms after the commit`,
      );
    });

    it('waitForAppend returns by its timeout when nothing is appended, and at once on abort', async () => {
      const store = await harness.open(SOURCE);
      // Spurious wake-ups are allowed (a store may poll): only the upper bounds are promised.
      let start = performance.now();
      await store.waitForAppend(150);
      const elapsed = performance.now() - start;
      assert.ok(elapsed < 650, `timeout after ${elapsed.toFixed(1)} ms`);
      for (const abortAfterMs of [20, 0]) {
        const abort = new AbortController();
        start = performance.now();
        const waiting = store.waitForAppend(10_000, abort.signal);
        setTimeout(() => abort.abort(), abortAfterMs);
        await waiting;
        assert.ok(performance.now() - start < 1000, 'abort did not end the wait');
      }
      start = performance.now();
      await store.waitForAppend(10_000, AbortSignal.abort());
      assert.ok(performance.now() - start < 50, 'an aborted signal did not return at once');
    });

    outboxCommitOrderCases(harness);
  });
}
