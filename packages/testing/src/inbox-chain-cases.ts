import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { InboxStore } from '@sluice/core';
import type { ChainCheck } from '@sluice/core/adapter';
import type { InboxStoreHarness } from './inbox-store-harness.js';

/** A chain check that records the stored sequence it was shown and answers `next` (or refuses). */
function chain(key: string, next: number | undefined, seen: (number | undefined)[]): ChainCheck {
  return {
    source: 'urn:test:chain',
    topic: 'chain-topic',
    key,
    check: (last) => {
      seen.push(last);
      return next;
    },
  };
}

const id = (n: number) => `0190a5c2-7a1e-7000-8000-${String(n).padStart(12, '0')}`;

/** The harness and the inbox of the running case. */
export interface InboxCase<Tx> {
  readonly h: InboxStoreHarness<Tx>;
  readonly inbox: InboxStore<Tx>;
}

/**
 * The chain part of the {@link InboxStore} contract (cases of `runInboxStoreConformance`): a chain's last
 * sequence commits with the inbox record and the handler's writes, rolls back with them, is not written when
 * the check refuses, is kept per group, and `passChain` and `startGroup` behave as documented.
 */
export function inboxChainCases<Tx>(current: () => InboxCase<Tx>): void {
  it("runOnce: the chain's sequence commits with the record and the handler's writes; a failing handler rolls all three back", async () => {
    const { h, inbox } = current();
    const seen: (number | undefined)[] = [];
    assert.equal(await inbox.runOnce('g', id(1), (tx) => h.write(tx, 'e1'), chain('k', 1, seen)), 'applied');
    await assert.rejects(
      inbox.runOnce(
        'g',
        id(2),
        async (tx) => {
          await h.write(tx, 'e2-undone');
          throw new Error('handler failed');
        },
        chain('k', 2, seen),
      ),
      /handler failed/,
    );
    // The failed event's sequence was rolled back: the retry is shown 1 again, and applies.
    assert.equal(await inbox.runOnce('g', id(2), (tx) => h.write(tx, 'e2'), chain('k', 2, seen)), 'applied');
    assert.equal(await inbox.runOnce('g', id(3), (tx) => h.write(tx, 'e3'), chain('k', 3, seen)), 'applied');
    assert.deepEqual(seen, [undefined, 1, 1, 2]);
    assert.deepEqual((await h.effects()).toSorted(), ['e1', 'e2', 'e3']);
  });

  it('runOnce: a duplicate is answered before the check; a refused event writes nothing and can apply later', async () => {
    const { h, inbox } = current();
    const seen: (number | undefined)[] = [];
    await inbox.runOnce('g', id(1), (tx) => h.write(tx, 'e1'), chain('k', 1, seen));
    assert.equal(
      await inbox.runOnce('g', id(1), () => assert.fail('no apply for a duplicate'), chain('k', 9, seen)),
      'duplicate',
    );
    assert.equal(
      await inbox.runOnce(
        'g',
        id(4),
        () => assert.fail('no apply when refused'),
        chain('k', undefined, seen),
      ),
      'refused',
    );
    assert.equal(await inbox.runOnce('g', id(4), (tx) => h.write(tx, 'e4'), chain('k', 4, seen)), 'applied');
    assert.deepEqual(seen, [undefined, 1, 1], 'the duplicate saw no check; the refusal stored nothing');
    assert.deepEqual((await h.effects()).toSorted(), ['e1', 'e4']);
  });

  it('chains are per group, source, topic and key', async () => {
    const { h, inbox } = current();
    const seen: (number | undefined)[] = [];
    await inbox.runOnce('g', id(1), (tx) => h.write(tx, 'e1'), chain('k', 7, seen));
    await inbox.runOnce('other', id(1), (tx) => h.write(tx, 'o1'), chain('k', 3, seen));
    await inbox.runOnce('g', id(2), (tx) => h.write(tx, 'e2'), chain('k2', 5, seen));
    await inbox.runOnce('g', id(3), (tx) => h.write(tx, 'e3'), {
      ...chain('k', 1, seen),
      source: 'urn:test:another-source',
    });
    await inbox.runOnce('g', id(4), (tx) => h.write(tx, 'e4'), chain('k', 8, seen));
    await inbox.runOnce('other', id(4), (tx) => h.write(tx, 'o4'), chain('k', 4, seen));
    assert.deepEqual(seen, [undefined, undefined, undefined, undefined, 7, 3]);
  });

  it('runBatch: applied events store their chains; failed and refused ones do not, and apply later', async (t) => {
    const { h, inbox } = current();
    if (!inbox.runBatch) return t.skip('no runBatch');
    const seen: (number | undefined)[] = [];
    await inbox.runOnce('g', id(1), (tx) => h.write(tx, 'a1'), chain('a', 1, seen));
    const outcomes = await inbox.runBatch('g', [
      { eventId: id(1), apply: () => assert.fail('duplicate'), chain: chain('a', 9, seen) },
      { eventId: id(2), apply: (tx) => h.write(tx, 'b1'), chain: chain('b', 1, seen) },
      {
        eventId: id(3),
        apply: async (tx) => {
          await h.write(tx, 'c1-undone');
          throw new Error('c failed');
        },
        chain: chain('c', 1, seen),
      },
      { eventId: id(4), apply: () => assert.fail('refused'), chain: chain('d', undefined, seen) },
      { eventId: id(5), apply: (tx) => h.write(tx, 'a2'), chain: chain('a', 2, seen) },
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['duplicate', 'applied', 'failed', 'refused', 'applied'],
    );
    assert.deepEqual(seen, [undefined, undefined, undefined, undefined, 1]);
    seen.length = 0;
    for (const [n, key] of [
      [3, 'c'],
      [4, 'd'],
      [6, 'a'],
      [7, 'b'],
    ] as const) {
      assert.equal(
        await inbox.runOnce('g', id(n), (tx) => h.write(tx, `${key}!`), chain(key, 9, seen)),
        'applied',
      );
    }
    assert.deepEqual(seen, [undefined, undefined, 2, 1], 'c and d stored nothing; a and b committed');
    assert.deepEqual((await h.effects()).toSorted(), ['a!', 'a1', 'a2', 'b!', 'b1', 'c!', 'd!']);
  });

  it('passChain stores the sequence without recording an event id; a refusal stores nothing', async () => {
    const { h, inbox } = current();
    const seen: (number | undefined)[] = [];
    assert.equal(await inbox.passChain('g', chain('k', 1, seen)), 'passed');
    assert.equal(await inbox.passChain('g', chain('k', undefined, seen)), 'refused');
    assert.equal(await inbox.passChain('g', chain('k', 2, seen)), 'passed');
    assert.equal(await inbox.runOnce('g', id(1), (tx) => h.write(tx, 'e1'), chain('k', 3, seen)), 'applied');
    assert.deepEqual(seen, [undefined, 1, 1, 2]);
  });

  it('startGroup: a new group is tracked from its start once and for good; one with applied events is not', async () => {
    const { h, inbox } = current();
    assert.equal(await inbox.startGroup('new', true), true);
    assert.equal(await inbox.startGroup('new', false), true, 'what was recorded stays');
    assert.equal(await inbox.startGroup('latest', false), false);
    assert.equal(await inbox.startGroup('latest', true), false, 'what was recorded stays');
    // A group that applied events before (an inbox without chains): its chains' beginnings were never seen.
    await inbox.runOnce('upgraded', id(1), (tx) => h.write(tx, 'u1'));
    assert.equal(await inbox.startGroup('upgraded', true), false);
  });
}
