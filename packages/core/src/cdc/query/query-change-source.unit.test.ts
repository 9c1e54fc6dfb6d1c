import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SluiceError } from '../../errors.js';
import { MemoryPolledTable } from '../../testing/memory-polled-table.js';
import type { PositionStore } from '../position-store.js';
import type { RowChange } from '../row-change.js';
import { createQueryChangeSource } from './query-change-source.js';
import type { QueryChangeSourceOptions } from './query-change-source-options.js';
import { microsFromTimestampText, timestampTextFromMicros } from './timestamp-text.js';

/** Positions in memory: what a restarted source finds is what the last one acknowledged. */
function memoryPositions(): PositionStore & { readonly saved: Map<string, string> } {
  const saved = new Map<string, string>();
  return {
    saved,
    async load(name) {
      return saved.get(name);
    },
    async save(name, position) {
      saved.set(name, position);
    },
    async close() {},
  };
}

const DELAY = 5000;

function source(
  table: MemoryPolledTable,
  positions: PositionStore,
  options: Partial<QueryChangeSourceOptions> = {},
) {
  return createQueryChangeSource({ table, positions, safetyDelayMs: DELAY, pollIntervalMs: 10, ...options });
}

const titles = (changes: RowChange[]) => changes.map((c) => c.after!['title']);

describe('queryChangeSource, incrementing mode (ids allocated in order, committed in any order)', () => {
  it('hands over contiguous rows at once as inserts, the id as their sequence', async () => {
    const table = new MemoryPolledTable('incrementing');
    table.insertCommitted('a');
    table.insertCommitted('b');
    const s = source(table, memoryPositions());
    const changes = await s.read(10, 0);
    assert.deepEqual(
      changes.map((c) => [c.operation, c.sequence, c.index, c.position, c.after!['title']]),
      [
        ['insert', 1, 0, '{"id":1}', 'a'],
        ['insert', 2, 0, '{"id":2}', 'b'],
      ],
    );
    assert.equal(changes[0]!.commitTime, Math.floor(table.now / 1000), "the database's time when read");
    assert.deepEqual(
      [changes[0]!.schema, changes[0]!.table, changes[0]!.before],
      ['memory', 'items', undefined],
    );
    assert.deepEqual(await s.read(10, 0), []);
  });

  it('never moves past a lower id whose transaction is still open, and hands it over in id order once committed', async () => {
    const table = new MemoryPolledTable('incrementing');
    table.insertCommitted('a');
    const slow = table.insert('slow'); // id 2, committed later
    table.insertCommitted('c');
    table.insertCommitted('d');
    const s = source(table, memoryPositions());
    assert.deepEqual(titles(await s.read(10, 0)), ['a']);
    table.advance(DELAY - 1);
    assert.deepEqual(await s.read(10, 0), [], 'the gap is younger than the safety delay');
    table.commit(slow);
    assert.deepEqual(titles(await s.read(10, 0)), ['slow', 'c', 'd']);
  });

  it('passes a rolled-back id after the safety delay on the database clock, counted from when the gap was seen', async () => {
    const table = new MemoryPolledTable('incrementing');
    const lost = table.insert('rolled back');
    table.insertCommitted('b');
    const s = source(table, memoryPositions());
    table.advance(60_000); // time before the gap was seen does not count
    assert.deepEqual(await s.read(10, 0), []);
    table.rollback(lost);
    table.advance(DELAY - 1);
    assert.deepEqual(await s.read(10, 0), []);
    table.advance(1);
    const changes = await s.read(10, 0);
    assert.deepEqual(titles(changes), ['b']);
    assert.equal(changes[0]!.sequence, 2);
  });

  it('times each gap from when a higher id was first visible, and holds back everything after a young gap', async () => {
    const table = new MemoryPolledTable('incrementing');
    const first = table.insert('never'); // 1: rolled back
    table.insertCommitted('b'); // 2
    const s = source(table, memoryPositions());
    assert.deepEqual(await s.read(10, 0), []);
    table.rollback(first);
    table.advance(3000);
    const second = table.insert('also never'); // 3: a gap seen 3 s after the first
    table.insertCommitted('d'); // 4
    table.rollback(second);
    assert.deepEqual(await s.read(10, 0), []);
    table.advance(2000); // gap 1 is 5 s old, gap 3 only 2 s
    assert.deepEqual(titles(await s.read(10, 0)), ['b']);
    table.advance(3000);
    assert.deepEqual(titles(await s.read(10, 0)), ['d']);
  });

  it('with contiguousIds false, hands every row over only once it has been visible for the delay', async () => {
    const table = new MemoryPolledTable('incrementing');
    table.insertCommitted('a');
    const s = source(table, memoryPositions(), { contiguousIds: false });
    assert.deepEqual(await s.read(10, 0), []);
    table.advance(DELAY);
    table.insertCommitted('b');
    assert.deepEqual(titles(await s.read(10, 0)), ['a'], 'b is new');
    table.advance(DELAY);
    assert.deepEqual(titles(await s.read(10, 0)), ['b']);
  });

  it('keeps to the batch limit and resumes after the last row handed over', async () => {
    const table = new MemoryPolledTable('incrementing');
    for (let i = 0; i < 7; i++) table.insertCommitted(`r${i}`);
    const s = source(table, memoryPositions());
    const batches = [await s.read(3, 0), await s.read(3, 0), await s.read(3, 0), await s.read(3, 0)];
    assert.deepEqual(
      batches.map((b) => b.map((c) => c.sequence)),
      [[1, 2, 3], [4, 5, 6], [7], []],
    );
  });

  it('a restarted source resumes after the acknowledged row: the unacknowledged ones again, none skipped', async () => {
    const table = new MemoryPolledTable('incrementing');
    for (let i = 1; i <= 5; i++) table.insertCommitted(`r${i}`);
    const positions = memoryPositions();
    const first = source(table, positions, { name: 'items' });
    const read = await first.read(10, 0);
    await first.acknowledge(read[1]!.position);
    const before = Date.now();
    const { lagBytes, lagMs } = await first.stats();
    const since = (t: number) => t - read[2]!.commitTime; // the oldest change not acknowledged
    assert.equal(lagBytes, null);
    assert.ok(lagMs !== null && lagMs >= since(before) && lagMs <= since(Date.now()), `lag ${lagMs}`);
    await first.close();
    await assert.rejects(first.read(1, 0), { code: 'SLUICE_CLOSED' });
    assert.equal(positions.saved.get('items'), '{"id":2}');

    table.insertCommitted('r6');
    const again = source(table, positions, { name: 'items' });
    const reread = await again.read(10, 0);
    assert.deepEqual(titles(reread), ['r3', 'r4', 'r5', 'r6']);
    assert.deepEqual(
      reread.slice(0, 3).map((c) => [c.sequence, c.index, c.position]),
      read.slice(2).map((c) => [c.sequence, c.index, c.position]),
      'the same changes get the same sequence, index and position (so the same event ids)',
    );
  });

  it('refuses a stored position of the other mode, and rows with ids it cannot use', async () => {
    const table = new MemoryPolledTable('incrementing');
    table.insertCommitted('a');
    const positions = memoryPositions();
    positions.saved.set('x', '{"timestamp":5,"id":1}');
    await assert.rejects(source(table, positions, { name: 'x' }).read(1, 0), (e: unknown) => {
      assert.ok(e instanceof SluiceError);
      assert.equal(e.code, 'SLUICE_QUERY_POSITION_INVALID');
      assert.equal(e.retryable, false);
      assert.match(e.message, /x: the stored position .* is not \{"id": <id>\}/);
      return true;
    });
    const bad = new MemoryPolledTable('incrementing');
    bad.fetch = async () => [{ row: {}, id: 0, timestamp: undefined }];
    await assert.rejects(source(bad, memoryPositions()).read(1, 0), { code: 'SLUICE_QUERY_ROW_INVALID' });
  });

  it('lets one process at a time read a source: a second waits (retryable) until the first stops or its session dies', async () => {
    const table = new MemoryPolledTable('incrementing');
    table.insertCommitted('a');
    const positions = memoryPositions();
    const first = source(table, positions, { name: 'one' });
    const second = source(table, positions, { name: 'one' });
    assert.equal((await first.read(10, 0)).length, 1);
    await assert.rejects(second.read(10, 0), (e: unknown) => {
      assert.ok(e instanceof SluiceError);
      assert.equal(e.code, 'SLUICE_SOURCE_BUSY');
      assert.equal(e.retryable, true);
      return true;
    });
    assert.equal(
      (await source(table, positions, { name: 'other' }).read(10, 0)).length,
      1,
      'per source name',
    );
    await first.close();
    assert.equal(
      (await second.read(10, 0)).length,
      1,
      'the lock was released: reads from the stored position',
    );
    table.loseLock('one'); // the second's session dies: the first, were it running, could take over
    const third = source(table, positions, { name: 'one' });
    assert.equal((await third.read(10, 0)).length, 1);
    await assert.rejects(second.read(10, 0), { code: 'SLUICE_SOURCE_BUSY' }, 'lost, and taken by the third');
  });

  it('read waits up to maxWaitMs for a row committed meanwhile', async () => {
    const table = new MemoryPolledTable('incrementing');
    const s = source(table, memoryPositions());
    setTimeout(() => table.insertCommitted('late'), 50);
    assert.deepEqual(titles(await s.read(10, 10_000)), ['late']);
  });
});

describe('queryChangeSource, timestamp+incrementing mode', () => {
  it('reads inserts and updates as updates, only rows older than the safety delay, in (timestamp, id) order', async () => {
    const table = new MemoryPolledTable('timestamp+incrementing');
    const a = table.insertCommitted('a');
    table.advance(1);
    table.insertCommitted('b');
    table.advance(1);
    table.update(a, 'a2');
    const s = source(table, memoryPositions());
    assert.deepEqual(await s.read(10, 0), [], 'all younger than the delay');
    assert.equal(table.fetches.at(-1)!.upTo, table.now - DELAY * 1000);
    table.advance(DELAY);
    const changes = await s.read(10, 0);
    assert.deepEqual(
      changes.map((c) => [c.operation, c.after!['title'], c.before]),
      [
        ['update', 'b', undefined],
        ['update', 'a2', undefined],
      ],
      'a was updated before it was read: only its latest version is seen',
    );
    const b = changes[0]!;
    const stamp = table.now - DELAY * 1000 - 1000; // b was written 1 ms before a2
    assert.deepEqual(
      [b.sequence, b.index, b.commitTime, b.transactionId, b.position],
      [
        stamp,
        2,
        Math.floor(stamp / 1000),
        `2@${timestampTextFromMicros(stamp)}`,
        `{"timestamp":${stamp},"id":2}`,
      ],
    );
    table.update(a, 'a3');
    table.advance(DELAY);
    const later = await s.read(10, 0);
    assert.deepEqual(titles(later), ['a3']);
    assert.ok(later[0]!.sequence > changes[1]!.sequence, "a row's later versions have higher sequences");
  });

  it('a batch limit that cuts a run of equal timestamps resumes inside it, skipping and repeating nothing', async () => {
    const table = new MemoryPolledTable('timestamp+incrementing');
    for (let i = 1; i <= 5; i++) table.insertCommitted(`same${i}`); // one timestamp
    table.advance(1);
    table.insertCommitted('next');
    table.advance(DELAY);
    const positions = memoryPositions();
    const s = source(table, positions, { name: 'ts' });
    const one = await s.read(2, 0);
    await s.acknowledge(one[1]!.position);
    assert.deepEqual(titles(one), ['same1', 'same2']);
    // A restart in the middle of the run, then the rest in small batches.
    await s.close();
    const again = source(table, positions, { name: 'ts' });
    const rest = [...(await again.read(2, 0)), ...(await again.read(2, 0)), ...(await again.read(2, 0))];
    assert.deepEqual(titles(rest), ['same3', 'same4', 'same5', 'next']);
    const names = [...one, ...rest].map((c) => `${c.sequence}/${c.index}`);
    assert.equal(new Set(names).size, 6, '(sequence, index) names each row version once');
  });
});

describe('timestamp text', () => {
  it('converts microseconds exactly, both ways', () => {
    for (const text of [
      '2026-11-27 10:11:12.123456',
      '1970-01-01 00:00:00.000001',
      '2099-12-31 23:59:59.999999',
    ]) {
      assert.equal(timestampTextFromMicros(microsFromTimestampText(text)), text);
    }
    assert.equal(
      microsFromTimestampText('2026-11-27 10:11:12.5'),
      microsFromTimestampText('2026-11-27 10:11:12.500000'),
    );
    assert.equal(microsFromTimestampText('1970-01-01 00:00:01'), 1_000_000);
  });
});

describe('queryChangeSource options', () => {
  it('names the offending field', () => {
    const table = new MemoryPolledTable('incrementing');
    const positions = memoryPositions();
    for (const [options, field] of [
      [{ table: {} }, 'table'],
      [{ table, positions: {} }, 'positions'],
      [{ table, positions, safetyDelayMs: -1 }, 'safetyDelayMs'],
      [{ table, positions, pollIntervalMs: 1.5 }, 'pollIntervalMs'],
      [{ table, positions, name: '' }, 'name'],
    ] as const) {
      assert.throws(
        () => createQueryChangeSource(options as unknown as QueryChangeSourceOptions),
        (e: unknown) =>
          e instanceof SluiceError &&
          e.code === 'SLUICE_INVALID_OPTION' &&
          e.message.includes(`\`${field}\``),
      );
    }
    assert.equal(createQueryChangeSource({ table, positions }).name, 'query:memory.items');
  });
});
