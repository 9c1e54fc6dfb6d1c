import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { PositionStore } from '@sluice/core';

/** What the suite needs of a {@link PositionStore}: fresh, empty storage per case and instances on it. */
export interface PositionStoreHarness {
  /** Creates fresh, empty storage (a file path, a database or table). */
  setup(): Promise<void>;
  /** Closes what `open` returned and removes what `setup` created. */
  teardown(): Promise<void>;
  /** Another store on the case's storage (as another process, or this one after a restart, would open). */
  open(): Promise<PositionStore>;
  /**
   * True when several live instances may share the storage (a database table); false when one instance at
   * a time owns it (a file whose instance caches it): then the concurrent saves come from one instance.
   */
  readonly sharedByInstances: boolean;
}

/** Positions as sources write them: opaque strings of any shape, kept exactly. */
const SHAPES = [
  '0-1-5',
  '0-1-6,1-2-3',
  '{"id":3,"at":"2026-12-07T04:00:00.123456Z"}',
  'mysql-bin.000042:1234567 ✓ "quoted" \\ back\nslash',
  'x'.repeat(4000),
];

/**
 * The behaviour every {@link PositionStore} must show: `undefined` until a name is saved, the last save per
 * name wins, names are independent, what is saved is kept exactly and survives `close` (another instance on
 * the same storage loads it), and concurrent saves never leave a torn value.
 */
export function runPositionStoreConformance(name: string, harness: PositionStoreHarness): void {
  describe(`${name}: PositionStore conformance`, () => {
    beforeEach(() => harness.setup());
    afterEach(() => harness.teardown());

    it('loads undefined for a name never saved, then the last position saved, per name', async () => {
      const store = await harness.open();
      assert.equal(await store.load('binlog:orders'), undefined);
      await store.save('binlog:orders', '0-1-5');
      await store.save('query:courses', '{"id":3}');
      await store.save('binlog:orders', '0-1-9');
      assert.equal(await store.load('binlog:orders'), '0-1-9');
      assert.equal(await store.load('query:courses'), '{"id":3}');
      assert.equal(await store.load('never'), undefined);
    });

    it('keeps every position exactly as given, whatever its characters and length', async () => {
      const store = await harness.open();
      for (const [i, p] of SHAPES.entries()) await store.save(`s${i}`, p);
      const other = await harness.open();
      for (const [i, p] of SHAPES.entries()) assert.equal(await other.load(`s${i}`), p, `shape ${i}`);
    });

    it('what was saved survives close: another instance on the same storage loads it', async () => {
      const store = await harness.open();
      await store.save('a', '0-1-42');
      await store.close();
      await store.close(); // idempotent
      const again = await harness.open();
      assert.equal(await again.load('a'), '0-1-42');
      await again.save('a', '0-1-43');
      assert.equal(await (await harness.open()).load('a'), '0-1-43', 'and its saves reach the next one');
    });

    it('concurrent saves: names stay independent, a name ends with one of the saved values, never torn', async () => {
      const a = await harness.open();
      const b = harness.sharedByInstances ? await harness.open() : a;
      const values = Array.from({ length: 20 }, (_, i) => `${i}-${'p'.repeat(i * 50)}`);
      await Promise.all([
        ...values.map((v, i) => (i % 2 === 0 ? a : b).save('shared', v)),
        ...values.map((v, i) => (i % 2 === 0 ? b : a).save(`own-${i}`, v)),
      ]);
      await a.close();
      await b.close();
      const reader = await harness.open();
      const last = await reader.load('shared');
      assert.ok(last !== undefined && values.includes(last), `torn or lost: ${last?.slice(0, 40)}`);
      for (const [i, v] of values.entries()) assert.equal(await reader.load(`own-${i}`), v, `own-${i}`);
      if (!harness.sharedByInstances) return;
      // Saves that do not overlap, from two live instances: the last one wins, seen from both.
      const [c, d] = [await harness.open(), await harness.open()];
      await c.save('shared', 'final-c');
      await d.save('shared', 'final-d');
      assert.equal(await c.load('shared'), 'final-d');
      assert.equal(await d.load('shared'), 'final-d');
    });
  });
}
