import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { InboxStore } from '@sluice/core';
import { sleep } from '@sluice/core/adapter';
import { inboxChainCases } from './inbox-chain-cases.js';
import type { InboxStoreHarness } from './inbox-store-harness.js';

const id = (n: number) => `0190a5c2-7a1e-7000-8000-${String(n).padStart(12, '0')}`;

/**
 * The behaviour every {@link InboxStore} must show on its real database: the handler's writes and the event's
 * record commit together or not at all, a recorded event is a duplicate (for this inbox, another one on the
 * same database and a concurrent run alike), groups are independent, `runBatch` undoes a failing event alone,
 * and the chain rules (see `inbox-chain-cases.ts`).
 */
export function runInboxStoreConformance<Tx>(name: string, harness: () => InboxStoreHarness<Tx>): void {
  describe(`${name}: InboxStore conformance`, () => {
    let h: InboxStoreHarness<Tx>;
    let inbox: InboxStore<Tx>;

    beforeEach(async () => {
      h = harness();
      inbox = await h.open();
    });

    afterEach(async () => {
      await inbox.close();
      await h.close();
    });

    it('applies once, then answers duplicate without calling apply, also from another inbox on the database', async () => {
      let calls = 0;
      const apply = async (tx: Tx) => {
        calls++;
        await h.write(tx, 'e1');
      };
      assert.equal(await inbox.runOnce('projection', id(1), apply), 'applied');
      assert.equal(await inbox.runOnce('projection', id(1), apply), 'duplicate');
      assert.equal(calls, 1);
      const again = await h.another();
      assert.equal(
        await again.runOnce('projection', id(1), () => assert.fail('apply must not run for a duplicate')),
        'duplicate',
      );
      assert.deepEqual(await h.effects(), ['e1']);
    });

    it('runs apply inside the transaction: its writes are invisible outside until the commit', async () => {
      let during: string[] | undefined;
      const result = await inbox.runOnce('projection', id(1), async (tx) => {
        await h.write(tx, 'e1');
        await sleep(10);
        during = await h.effects();
      });
      assert.equal(result, 'applied');
      assert.deepEqual(during, [], 'seen before the commit');
      assert.deepEqual(await h.effects(), ['e1']);
    });

    it('a throwing apply rolls back its writes and the record and rethrows; the next runOnce applies', async () => {
      const failure = new Error('handler failed after writing');
      await assert.rejects(
        inbox.runOnce('projection', id(1), async (tx) => {
          await h.write(tx, 'e1');
          throw failure;
        }),
        (e: unknown) => e === failure,
      );
      assert.deepEqual(await h.effects(), []);
      // A write the database refuses (the effect exists): the driver's error comes back, nothing is kept.
      assert.equal(await inbox.runOnce('projection', id(2), (tx) => h.write(tx, 'taken')), 'applied');
      await assert.rejects(
        inbox.runOnce('projection', id(1), async (tx) => {
          await h.write(tx, 'e1');
          await h.write(tx, 'taken');
        }),
      );
      assert.deepEqual((await h.effects()).toSorted(), ['taken']);
      let calls = 0;
      const applied = await inbox.runOnce('projection', id(1), async (tx) => {
        calls++;
        await h.write(tx, 'e1');
      });
      assert.deepEqual([applied, calls], ['applied', 1], 'the failed event was not recorded');
      assert.deepEqual((await h.effects()).toSorted(), ['e1', 'taken']);
    });

    it('keeps consumer groups independent', async () => {
      assert.equal(await inbox.runOnce('a', id(1), (tx) => h.write(tx, 'a1')), 'applied');
      assert.equal(await inbox.runOnce('b', id(1), (tx) => h.write(tx, 'b1')), 'applied');
      assert.equal(await inbox.runOnce('a', id(1), () => assert.fail('duplicate in a')), 'duplicate');
      assert.equal(await inbox.runOnce('b', id(1), () => assert.fail('duplicate in b')), 'duplicate');
      assert.deepEqual((await h.effects()).toSorted(), ['a1', 'b1']);
    });

    it('the same event run concurrently by two consumers is applied once', async (t) => {
      if (!h.concurrentTransactions) return t.skip('one transaction at a time');
      const other = await h.another();
      let calls = 0;
      const apply = (effect: string) => async (tx: Tx) => {
        calls++;
        await h.write(tx, effect);
        await sleep(100); // the other run arrives while this transaction is open
      };
      const results = await Promise.all([
        inbox.runOnce('g', id(1), apply('first')),
        (async () => {
          await sleep(20);
          return other.runOnce('g', id(1), apply('second'));
        })(),
      ]);
      assert.deepEqual(results.toSorted(), ['applied', 'duplicate']);
      assert.equal((await h.effects()).length, 1, `applied twice: ${await h.effects()}`);
      assert.ok(calls >= 1);
    });

    it('runBatch: one transaction; duplicates skipped, a throwing handler undone alone, the rest committed', async (t) => {
      if (!inbox.runBatch) return t.skip('no runBatch');
      assert.equal(await inbox.runOnce('g', id(1), (tx) => h.write(tx, 'e1')), 'applied');
      const failure = new Error('failed after a write');
      const outcomes = await inbox.runBatch('g', [
        { eventId: id(2), apply: (tx) => h.write(tx, 'e2') },
        { eventId: id(1), apply: () => assert.fail('applied before: a duplicate') },
        {
          eventId: id(3),
          apply: async (tx) => {
            await h.write(tx, 'e3-undone');
            throw failure;
          },
        },
        { eventId: id(4), apply: (tx) => h.write(tx, 'e4') },
        { eventId: id(4), apply: () => assert.fail('twice in the batch: a duplicate') },
      ]);
      assert.deepEqual(
        outcomes.map((o) => o.status),
        ['applied', 'duplicate', 'failed', 'applied', 'duplicate'],
      );
      assert.equal((outcomes[2] as { error: unknown }).error, failure);
      assert.deepEqual((await h.effects()).toSorted(), ['e1', 'e2', 'e4']);
      assert.equal(await inbox.runOnce('g', id(3), (tx) => h.write(tx, 'e3')), 'applied', 'not recorded');
      assert.equal(await inbox.runOnce('g', id(4), () => assert.fail('recorded')), 'duplicate');
    });

    inboxChainCases(() => ({ h, inbox }));
  });
}
