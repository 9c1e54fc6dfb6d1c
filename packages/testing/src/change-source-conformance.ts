import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type ChangeSource, type RowChange, SluiceError } from '@sluice/core';
import { sleep } from '@sluice/core/adapter';

/** A writer's own connection to the database under test, on the captured table `items (id, title)`. */
export interface ChangeWriter {
  begin(): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  insert(id: number, title: string): Promise<void>;
  update(id: number, title: string): Promise<void>;
  delete(id: number): Promise<void>;
}

/**
 * What the suite needs of a log-based {@link ChangeSource}: per case, a fresh captured table `items` (integer
 * primary key `id`, text `title`, full before images) with a fresh stream (a replication slot, a stored
 * position name), readers of that stream, and writers.
 */
export interface ChangeSourceHarness {
  /** Creates the table and the stream; the stream starts before any write of the case. */
  setup(): Promise<void>;
  /** Closes every reader and writer and drops what `setup` created (never leave a slot behind). */
  teardown(): Promise<void>;
  /** A new reader of the case's stream, resuming from its acknowledged position (as after a restart). */
  source(): ChangeSource;
  writer(): Promise<ChangeWriter>;
  /**
   * True for a source that reads transactions from a log (before images, deletes, one sequence per
   * transaction); false for a query-based source, which sees rows, not transactions: the cases about commit
   * order and partly acknowledged transactions are skipped (the PolledTable suite covers its own order and
   * resume rules), and its writes are inserts of increasing ids, one per transaction.
   */
  readonly transactions: boolean;
}

/** Reads from `source` until `count` changes came or `timeoutMs` passed. */
export async function readChanges(
  source: ChangeSource,
  count: number,
  timeoutMs = 15_000,
): Promise<RowChange[]> {
  const out: RowChange[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < count && Date.now() < deadline)
    out.push(...(await source.read(count - out.length, 200)));
  return out;
}

const ids = (changes: readonly RowChange[]) =>
  changes.map((c) => [c.operation, Number((c.after ?? c.before)!['id'])]);
const identity = (changes: readonly RowChange[]) => changes.map((c) => [c.sequence, c.index, c.operation]);

/**
 * The behaviour every log-based {@link ChangeSource} must show on its real database: committed transactions
 * only, in commit order, each with one sequence and indexes 0, 1, ...; a new reader resumes after the
 * acknowledged change (a transaction acknowledged in part is read again whole, with the same sequence and
 * index), never after what was only read; and one reader at a time.
 */
export function runChangeSourceConformance(name: string, harness: ChangeSourceHarness): void {
  const logOnly = harness.transactions ? false : 'a query-based source sees rows, not transactions';
  describe(`${name}: ChangeSource conformance`, () => {
    beforeEach(() => harness.setup());
    afterEach(() => harness.teardown());

    it('hands over committed transactions only, in commit order, with before images; one sequence per transaction', {
      skip: logOnly,
    }, async () => {
      const s = harness.source();
      await s.read(1, 0); // starts the stream
      const [t1, t2] = [await harness.writer(), await harness.writer()];
      await t1.insert(1, 'one');
      await t2.begin();
      await t2.insert(2, 'two'); // written first, committed later
      await t1.insert(3, 'three');
      await t2.commit();
      await t1.begin();
      await t1.update(1, 'ONE');
      await t1.insert(4, 'four');
      await t1.commit();
      await t2.begin();
      await t2.insert(5, 'never');
      await t2.rollback();
      await t1.delete(3);
      const changes = await readChanges(s, 6);
      assert.deepEqual(ids(changes), [
        ['insert', 1],
        ['insert', 3],
        ['insert', 2],
        ['update', 1],
        ['insert', 4],
        ['delete', 3],
      ]);
      assert.deepEqual(
        [changes[3]!.before?.['title'], changes[3]!.after?.['title']],
        ['one', 'ONE'],
        'the update has its before image',
      );
      assert.equal(changes[5]!.before?.['title'], 'three', 'the delete has its before image');
      assert.equal(changes[5]!.after, undefined);
      assert.ok(changes.every((c) => c.table === 'items'));
      assert.equal(changes[3]!.sequence, changes[4]!.sequence, 'one transaction, one sequence');
      assert.deepEqual([changes[3]!.index, changes[4]!.index], [0, 1]);
      for (let i = 1; i < changes.length; i++) {
        if (i !== 4) assert.ok(changes[i]!.sequence > changes[i - 1]!.sequence, `sequence ${i} not higher`);
      }
      assert.ok(changes.every((c) => Number.isSafeInteger(c.sequence) && c.sequence > 0));
      assert.deepEqual(await s.read(10, 300), [], 'nothing of the rolled-back transaction');
    });

    it('resumes after the acknowledged change: a transaction acknowledged in part is read again whole, the same', {
      skip: logOnly,
    }, async () => {
      const first = harness.source();
      await first.read(1, 0);
      const w = await harness.writer();
      await w.begin();
      for (let id = 10; id < 15; id++) await w.insert(id, 'r');
      await w.commit();
      await w.update(10, 'r2');
      const before = await readChanges(first, 6);
      assert.deepEqual(
        ids(before).map(([, id]) => id),
        [10, 11, 12, 13, 14, 10],
      );
      await first.acknowledge(before[2]!.position); // mid-transaction: 10, 11, 12 delivered
      await first.close(); // gone with 13, 14 and the update read but not delivered
      const second = harness.source();
      const again = await readChanges(second, 6);
      assert.deepEqual(
        identity(again),
        identity(before),
        'the whole transaction again, same sequence and index',
      );
      await second.acknowledge(again[4]!.position); // the first transaction, whole
      await second.close();
      const third = harness.source();
      const rest = await readChanges(third, 1);
      assert.deepEqual(ids(rest), [['update', 10]], 'the acknowledged transaction is not read again');
      assert.equal(rest[0]!.sequence, before[5]!.sequence);
      assert.deepEqual(await third.read(10, 300), []);
    });

    it('acknowledges only what was delivered: what was read past the acknowledged change comes again', async () => {
      const first = harness.source();
      await first.read(1, 0);
      const w = await harness.writer();
      for (let id = 20; id < 24; id++) await w.insert(id, 'one per transaction');
      const read = await readChanges(first, 4);
      assert.equal(read.length, 4);
      await first.acknowledge(read[1]!.position); // 20 and 21 delivered; 22 and 23 only read
      await sleep(100);
      await first.close();
      const second = harness.source();
      const next = await readChanges(second, 2);
      assert.deepEqual(
        ids(next),
        [
          ['insert', 22],
          ['insert', 23],
        ],
        'resumed after 21: nothing delivered again, nothing skipped',
      );
      assert.deepEqual(identity(next), identity(read.slice(2)));
      assert.deepEqual(await second.read(10, 300), []);
    });

    it('one reader at a time: a second reader gets a retryable error until the first closes', async () => {
      const first = harness.source();
      const second = harness.source();
      await first.read(1, 0);
      await sleep(200);
      await assert.rejects(
        () => second.read(1, 0),
        (e: unknown) => e instanceof SluiceError && e.retryable,
      );
      await first.close();
      let free = false;
      for (let i = 0; i < 50 && !free; i++) {
        free = await second.read(1, 0).then(
          () => true,
          async () => {
            await sleep(100);
            return false;
          },
        );
      }
      assert.ok(free, 'the stream is free once the first reader closed');
    });

    it('preflight, when offered: every check passes on the prepared stream, and it takes nothing from a reader', async (t) => {
      const reader = harness.source();
      const checker = harness.source();
      try {
        if (checker.preflight === undefined) return t.skip('this source offers no preflight');
        await reader.read(1, 0); // the reader holds the stream while the checks run
        const writer = await harness.writer();
        await writer.insert(1, 'one');
        const checks = await checker.preflight();
        assert.ok(checks.length > 0, 'at least one check');
        for (const c of checks) {
          assert.ok(
            typeof c.name === 'string' && c.name !== '' && typeof c.detail === 'string',
            JSON.stringify(c),
          );
          assert.equal(c.ok, true, `${c.name}: ${c.detail}`);
        }
        assert.deepEqual(ids(await readChanges(reader, 1)), [['insert', 1]], 'the reader goes on reading');
      } finally {
        await checker.close();
        await reader.close();
      }
    });
  });
}
