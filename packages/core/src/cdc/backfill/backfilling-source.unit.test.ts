import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SluiceError } from '../../errors.js';
import { MemoryChangeLog } from '../../testing/memory-change-source.js';
import { type MemoryRow, MemoryTable } from '../../testing/memory-snapshotter.js';
import type { RowChange } from '../row-change.js';
import { type BackfillingSource, withBackfill } from './backfilling-source.js';

/** A small seeded PRNG (mulberry32), so a failing interleaving can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random live writes: inserts, updates and deletes of ids 1..300, 1-3 per transaction. */
function liveWrites(table: MemoryTable, rnd: () => number, transactions: number): void {
  for (let t = 0; t < transactions; t++) {
    const writes = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => {
      const id = 1 + Math.floor(rnd() * 300);
      return { id, value: rnd() < 0.2 ? undefined : `v${Math.floor(rnd() * 1e6)}` };
    });
    table.write(...writes);
  }
}

/** What a consumer of the stream keeps: the latest row per id. */
function apply(state: Map<number, MemoryRow>, change: RowChange): void {
  if (change.operation === 'truncate') state.clear();
  else if (change.operation === 'delete') state.delete((change.before as unknown as MemoryRow).id);
  else state.set((change.after as unknown as MemoryRow).id, change.after as unknown as MemoryRow);
}

/** The watermark committed at a snapshot row's high-watermark position. */
function highWatermarkOf(log: MemoryChangeLog, snapshot: RowChange): string {
  const at = snapshot.position.slice(0, snapshot.position.indexOf('~'));
  const change = log.changes.find((c) => c.position === at)!;
  return (change.after as { watermark: string }).watermark;
}

/** Reads and acknowledges until `until()` holds and nothing is left; returns every change handed over. */
async function drain(
  source: BackfillingSource,
  until: () => boolean,
  onChange?: (c: RowChange) => void,
): Promise<RowChange[]> {
  const out: RowChange[] = [];
  for (let i = 0; i < 10_000; i++) {
    const changes = await source.read(37, 5);
    for (const c of changes) onChange?.(c);
    out.push(...changes);
    if (changes.length > 0) await source.acknowledge(changes[changes.length - 1]!.position);
    else if (until()) return out;
  }
  throw new Error('the backfill did not finish');
}

describe('withBackfill (watermark snapshots)', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`never hands over a stale snapshot row, whatever live changes fall inside the window (seed ${seed})`, async () => {
      const rnd = random(seed);
      const log = new MemoryChangeLog();
      const table = new MemoryTable(log);
      for (let id = 1; id <= 200; id++) table.write({ id, value: `initial-${id}` });
      log.acknowledged = log.changes.at(-1)!.position; // the source starts after the existing rows
      table.hooks.afterLowWatermark = () => liveWrites(table, rnd, Math.floor(rnd() * 4));
      table.hooks.afterChunk = () => liveWrites(table, rnd, Math.floor(rnd() * 4));
      const source = withBackfill(log.reader('app'), { snapshotter: table, pollIntervalMs: 10 });
      await table.request({ source: 'app', schema: 'app', table: 'items', chunkSize: 9 });

      const consumer = new Map<number, MemoryRow>();
      let snapshots = 0;
      const seen = await drain(
        source,
        () => table.requests.every((r) => r.done),
        (change) => {
          assert.notEqual(change.table, 'watermarks', 'a watermark was handed over');
          if (change.operation === 'snapshot') {
            snapshots++;
            const row = change.after as unknown as MemoryRow;
            const atHigh = table.stateAtWatermark.get(highWatermarkOf(log, change))!;
            assert.deepEqual(
              row,
              atHigh.get(row.id),
              `snapshot row ${row.id} is not the row as of its high watermark`,
            );
          }
          apply(consumer, change);
          if (rnd() < 0.3) liveWrites(table, rnd, 1);
        },
      );
      // Drain the live changes written after the last chunk.
      seen.push(
        ...(await drain(
          source,
          () => true,
          (c) => apply(consumer, c),
        )),
      );
      assert.deepEqual(
        [...consumer.entries()].sort((a, b) => a[0] - b[0]),
        [...table.rows.entries()].sort((a, b) => a[0] - b[0]),
        'the consumer does not hold the table',
      );
      assert.ok(snapshots > 100, `only ${snapshots} snapshot rows`);
      assert.ok(
        seen.some((c) => c.operation !== 'snapshot'),
        'no live change was interleaved',
      );
      // Every snapshot row of a chunk shares the high watermark's sequence, after every live change before it.
      let lastSequence = 0;
      for (const c of seen) {
        assert.ok(c.sequence >= lastSequence, 'sequences went backwards');
        lastSequence = c.sequence;
      }
      assert.equal(
        log.acknowledged,
        log.changes.at(-1)!.position,
        'the source was not acknowledged past the last watermark',
      );
    });
  }

  it('resumes a backfill after the last chunk whose rows were all acknowledged', async () => {
    const log = new MemoryChangeLog();
    const table = new MemoryTable(log);
    for (let id = 1; id <= 50; id++) table.write({ id, value: `row-${id}` });
    log.acknowledged = log.changes.at(-1)!.position;
    await table.request({ source: 'app', schema: 'app', table: 'items', chunkSize: 10 });

    const first = withBackfill(log.reader('app'), { snapshotter: table, pollIntervalMs: 10 });
    const handed: RowChange[] = [];
    while (handed.filter((c) => c.operation === 'snapshot').length < 25)
      handed.push(...(await first.read(5, 5)));
    // Acknowledge up to row 15 only: chunk 1 (ids 1-10) is whole, chunk 2 is not.
    const row15 = handed.find((c) => (c.after as unknown as MemoryRow | undefined)?.id === 15)!;
    await first.acknowledge(row15.position);
    assert.deepEqual(table.requests[0]!.afterKey, [10]);
    assert.equal(table.requests[0]!.rowsDelivered, 10);
    table.write({ id: 12, value: 'changed-after-the-crash' }, { id: 51, value: 'new' });
    await first.close();

    const second = withBackfill(log.reader('app'), { snapshotter: table, pollIntervalMs: 10 });
    const consumer = new Map<number, MemoryRow>();
    for (const c of handed.slice(0, handed.indexOf(row15) + 1)) apply(consumer, c);
    const again = await drain(
      second,
      () => table.requests[0]!.done,
      (c) => apply(consumer, c),
    );
    const snapshotIds = again
      .filter((c) => c.operation === 'snapshot')
      .map((c) => (c.after as unknown as MemoryRow).id);
    assert.equal(snapshotIds[0], 11, 'the resumed backfill did not start after the last whole chunk');
    assert.deepEqual(consumer.get(12), { id: 12, value: 'changed-after-the-crash' });
    assert.deepEqual(
      [...consumer.keys()].sort((a, b) => a - b),
      [...table.rows.keys()].sort((a, b) => a - b),
    );
    assert.equal(table.requests[0]!.rowsDelivered, 10 + snapshotIds.length);
  });

  it('hands over no row of a chunk whose table was truncated between its watermarks', async () => {
    const log = new MemoryChangeLog();
    const table = new MemoryTable(log);
    for (let id = 1; id <= 30; id++) table.write({ id, value: `row-${id}` });
    log.acknowledged = log.changes.at(-1)!.position;
    let chunks = 0;
    table.hooks.afterChunk = () => {
      if (++chunks === 2) {
        table.truncate();
        table.write({ id: 3, value: 'after-the-truncate' });
      }
    };
    await table.request({ source: 'app', schema: 'app', table: 'items', chunkSize: 10 });
    const source = withBackfill(log.reader('app'), { snapshotter: table, pollIntervalMs: 10 });
    const consumer = new Map<number, MemoryRow>();
    const seen = await drain(
      source,
      () => table.requests[0]!.done,
      (c) => apply(consumer, c),
    );
    const snapshotIds = seen
      .filter((c) => c.operation === 'snapshot')
      .map((c) => (c.after as unknown as MemoryRow).id);
    assert.deepEqual(
      snapshotIds,
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      'rows of the truncated chunk were handed over',
    );
    assert.deepEqual([...consumer.values()], [{ id: 3, value: 'after-the-truncate' }]);
  });

  it('requests the initial snapshot only the first time a source runs', async () => {
    const log = new MemoryChangeLog();
    const table = new MemoryTable(log);
    for (let id = 1; id <= 5; id++) table.write({ id, value: `row-${id}` });
    const options = { snapshotter: table, pollIntervalMs: 10, initialSnapshot: ['app.items'] };
    const first = withBackfill(log.reader('app'), options);
    const changes = await drain(first, () => table.requests.every((r) => r.done));
    assert.equal(changes.filter((c) => c.operation === 'snapshot').length, 5);
    await first.close();
    const second = withBackfill(log.reader('app'), options);
    assert.deepEqual(await second.read(10, 20), []);
    assert.equal(table.requests.length, 1, 'a restarted source snapshotted again');
    assert.throws(() => withBackfill(log.reader('app'), { snapshotter: table, initialSnapshot: ['items'] }), {
      code: 'SLUICE_INVALID_OPTION',
    });
  });

  it('keeps live changes flowing through a retryable snapshotter failure, then finishes the backfill', async () => {
    const log = new MemoryChangeLog();
    const table = new MemoryTable(log);
    for (let id = 1; id <= 5; id++) table.write({ id, value: `row-${id}` });
    log.acknowledged = log.changes.at(-1)!.position;
    await table.request({ source: 'app', schema: 'app', table: 'items', chunkSize: 10 });
    let failures = 3;
    table.hooks.afterChunk = () => {
      if (failures-- > 0) {
        table.write({ id: 100 + failures, value: 'live during the outage' });
        throw new SluiceError('SLUICE_DATABASE_UNAVAILABLE', 'the database is shutting down', {});
      }
    };
    const source = withBackfill(log.reader('app'), { snapshotter: table, pollIntervalMs: 10 });
    const changes = await drain(source, () => table.requests[0]!.done);
    assert.equal(failures, -1, 'the snapshotter did not fail three times');
    assert.equal(changes.filter((c) => c.operation === 'snapshot').length, 8);
    assert.equal(changes.filter((c) => c.operation === 'insert').length, 3, 'live changes were held back');
  });

  it('stops the source on a permanent snapshotter failure, naming it', async () => {
    const log = new MemoryChangeLog();
    const table = new MemoryTable(log);
    table.write({ id: 1, value: 'row-1' });
    await table.request({ source: 'app', schema: 'app', table: 'items', chunkSize: 10 });
    table.hooks.afterChunk = () => {
      throw new SluiceError('SLUICE_BACKFILL_NO_PRIMARY_KEY', 'app.items has no primary key');
    };
    const source = withBackfill(log.reader('app'), { snapshotter: table, pollIntervalMs: 10 });
    let error: unknown;
    for (let i = 0; i < 50 && error === undefined; i++)
      await source.read(10, 5).catch((e: unknown) => (error = e));
    assert.ok(error instanceof SluiceError && error.code === 'SLUICE_BACKFILL_NO_PRIMARY_KEY', String(error));
  });
});
