import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  createChangeOutbox,
  createQueryChangeSource,
  createRelay,
  decodeEnvelope,
  defineEvent,
  defineKey,
  defineTopic,
  FilePositionStore,
  mapped,
  type PositionStore,
  type QueryChangeSource,
  type QueryChangeSourceOptions,
  type QueryMode,
  type RowChange,
} from '@sluice/core';
import { type PolledTable, sleep } from '@sluice/core/adapter';
import { createMemoryTransport } from '@sluice/core/testing';
import { z } from 'zod';

/** A writer's own connection to the database under test, for transactions that overlap other writers'. */
export interface WriterSession {
  begin(): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  /** Inserts a row with this title (its `updated_at` the database's clock); resolves the id it was given. */
  insert(title: string): Promise<number>;
  /** Sets the row's title, and its `updated_at` to the database's clock now. */
  update(id: number, title: string): Promise<void>;
  close(): Promise<void>;
}

/** The options every dialect's adapter takes, besides its schema or database. */
export interface PolledColumns {
  readonly table: string;
  readonly incrementingColumn: string;
  readonly timestampColumn?: string;
}

/** A {@link PositionStore} in memory, for tests that are not about durability. */
export function memoryPositionStore(): PositionStore {
  const saved = new Map<string, string>();
  return {
    load: async (name) => saved.get(name),
    save: async (name, position) => void saved.set(name, position),
    close: async () => undefined,
  };
}

/**
 * What the suite needs of a database: a fresh table `items` per test, with an auto-increment integer `id`
 * (allocated one after another), a text `title` and a microsecond `updated_at` that inserts set to the database's
 * clock; the dialect's {@link PolledTable} on it; and writer sessions.
 */
export interface PolledTableHarness {
  /** Creates a fresh schema or database with the empty table. */
  setup(): Promise<void>;
  /** Drops what `setup` created and closes every connection it opened. */
  teardown(): Promise<void>;
  /** The dialect's adapter on a table of the test's schema or database (`items` or another). */
  polledTable(columns: PolledColumns): PolledTable;
  session(): Promise<WriterSession>;
  /** Adds a nullable text column `name` to `items` (a legacy table's schema changing under the source). */
  addColumn(name: string): Promise<void>;
  /** Kills the database session holding the reading lock of the source `name` (as a dying connection would). */
  killLockHolder(name: string): Promise<void>;
}

const ItemOwner = defineKey('itemOwner', z.string().regex(/^w\d+$/), { description: "an item's writer" });
const itemsTopic = defineTopic({ name: 'items', kind: 'event', partitions: 4 });
const ItemAdded = defineEvent({
  type: 'item.added',
  version: 1,
  key: ItemOwner,
  topic: itemsTopic,
  description: 'a writer added an item',
  schema: z.object({ itemOwner: z.string(), id: z.number().int(), title: z.string() }),
});

/** Reads from `source` until `count` changes came or `timeoutMs` passed. */
async function readAll(
  source: ReturnType<typeof createQueryChangeSource>,
  count: number,
  timeoutMs = 20_000,
): Promise<RowChange[]> {
  const out: RowChange[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < count && Date.now() < deadline)
    out.push(...(await source.read(count - out.length, 200)));
  return out;
}

const titles = (changes: readonly RowChange[]) => changes.map((c) => c.after!['title']);

/**
 * The behaviour every dialect's {@link PolledTable} must give a `QueryChangeSource` on a real server: commits
 * out of id order are neither skipped nor reordered, rolled-back ids are passed after the safety delay,
 * updates are seen in timestamp mode, a restart resumes from the stored position, and a relay ships it all.
 */
export function runPolledTableConformance(name: string, harness: PolledTableHarness): void {
  describe(`${name}: query-based liberation (PolledTable conformance)`, () => {
    let dir: string;
    let positions: PositionStore;
    const sessions: WriterSession[] = [];
    const session = async () => {
      const s = await harness.session();
      sessions.push(s);
      return s;
    };
    const items = (mode: QueryMode) =>
      harness.polledTable({
        table: 'items',
        incrementingColumn: 'id',
        ...(mode === 'incrementing' ? {} : { timestampColumn: 'updated_at' }),
      });
    /** Sources made by a test, closed after it (each holds a connection for its reading lock). */
    const sources: QueryChangeSource[] = [];
    const source = (mode: QueryMode, options: Partial<QueryChangeSourceOptions> = {}) => {
      const s = createQueryChangeSource({ table: items(mode), positions, pollIntervalMs: 50, ...options });
      sources.push(s);
      return s;
    };

    beforeEach(async () => {
      await harness.setup();
      dir = await mkdtemp(join(tmpdir(), 'sluice-query-'));
      positions = new FilePositionStore(join(dir, 'positions.json'));
    });
    afterEach(async () => {
      await Promise.all(sources.splice(0).map((s) => s.close()));
      await Promise.all(sessions.splice(0).map((s) => s.close().catch(() => undefined)));
      await harness.teardown();
      await rm(dir, { recursive: true, force: true });
    });

    it('incrementing: a lower id committed after a higher one is skipped by a naive id > cursor poll, not by the source', async () => {
      const table = items('incrementing');
      const slow = await session();
      const fast = await session();
      await slow.begin();
      const low = await slow.insert('low'); // allocated first, committed last
      const high = await fast.insert('high');
      assert.ok(low < high);
      const s = source('incrementing', { safetyDelayMs: 60_000 });
      assert.deepEqual(await s.read(10, 0), [], 'the source waits at the open transaction’s id');

      const naive = await table.fetch({ after: undefined, upTo: undefined, limit: 100 });
      assert.deepEqual(
        naive.map((r) => r.id),
        [high],
      );
      await slow.commit();
      const naiveNext = await table.fetch({ after: { id: high }, upTo: undefined, limit: 100 });
      assert.deepEqual(
        naiveNext,
        [],
        'a poll that moved its cursor to the highest id it saw never sees `low`',
      );

      const changes = await readAll(s, 2);
      assert.deepEqual(
        changes.map((c) => [c.operation, c.sequence, c.after!['title']]),
        [
          ['insert', low, 'low'],
          ['insert', high, 'high'],
        ],
      );
      assert.deepEqual(await s.read(10, 0), []);
    });

    it("incrementing: a rolled-back id's gap is passed once it is safetyDelayMs old, later rows at once", async () => {
      const writer = await session();
      const other = await session();
      await writer.begin();
      await writer.insert('rolled back');
      const kept = await other.insert('kept');
      await writer.rollback();
      const s = source('incrementing', { safetyDelayMs: 1500 });
      assert.deepEqual(await s.read(10, 0), [], 'the gap was only just seen');
      const changes = await readAll(s, 1);
      assert.deepEqual(
        changes.map((c) => c.sequence),
        [kept],
      );
      const next = await other.insert('next');
      assert.deepEqual(
        (await s.read(10, 0)).map((c) => c.sequence),
        [next],
        'no gap below it: handed over without waiting',
      );
    });

    it('timestamp+incrementing: sees inserts and updates, and an update committed after a later one; a naive poll misses it', async () => {
      const table = items('timestamp+incrementing');
      const writer = await session();
      const a = await writer.insert('a');
      const b = await writer.insert('b');
      await writer.update(a, 'a2');
      const s = source('timestamp+incrementing', { safetyDelayMs: 3000 });
      const first = await readAll(s, 2);
      assert.deepEqual(
        first.map((c) => [c.operation, c.index, c.after!['title'], c.before]),
        [
          ['update', b, 'b', undefined],
          ['update', a, 'a2', undefined],
        ],
        'only the latest version of a row updated before the poll',
      );
      assert.ok(first[0]!.sequence < first[1]!.sequence);

      // A transaction stamps `a` first and commits after another one stamped and committed `b`.
      const slow = await session();
      await slow.begin();
      await slow.update(a, 'a3');
      await sleep(20);
      await writer.update(b, 'b3');
      const naiveCursor = { timestamp: first[1]!.sequence, id: a };
      const naive = await table.fetch({ after: naiveCursor, upTo: await table.databaseNow(), limit: 10 });
      assert.deepEqual(
        naive.map((r) => r.row['title']),
        ['b3'],
      );
      await sleep(100);
      await slow.commit();
      const naiveNext = await table.fetch({
        after: { timestamp: naive[0]!.timestamp!, id: b },
        upTo: await table.databaseNow(),
        limit: 10,
      });
      assert.deepEqual(naiveNext, [], 'a poll without the safety delay passed a3 for good');

      const later = await readAll(s, 2);
      assert.deepEqual(titles(later), ['a3', 'b3'], 'in timestamp order, none skipped');
      assert.ok(later[0]!.sequence > first[1]!.sequence, "a row's later version has a higher sequence");
    });

    it('a new source with the same position store resumes after the acknowledged change, skipping nothing', async () => {
      const writer = await session();
      for (let i = 1; i <= 5; i++) await writer.insert(`r${i}`);
      const first = source('incrementing', { name: 'items-restart' });
      const read = await readAll(first, 5);
      await first.acknowledge(read[1]!.position);
      await first.close(); // r3..r5 were handed over but never acknowledged: a crash here
      await writer.insert('r6');
      const again = source('incrementing', { name: 'items-restart' });
      const reread = await readAll(again, 4);
      assert.deepEqual(titles(reread), ['r3', 'r4', 'r5', 'r6']);
      assert.deepEqual(
        reread.slice(0, 3).map((c) => [c.sequence, c.position]),
        read.slice(2).map((c) => [c.sequence, c.position]),
      );
      assert.deepEqual(await again.read(10, 0), []);
    });

    it('changeOutbox and a relay ship concurrent writers’ inserts to the embedded log: all committed, once, in order per key, nothing rolled back', async () => {
      const owners = 4;
      const committed = new Map<number, string>();
      const rolledBack = new Set<number>();
      const bus = createMemoryTransport();
      const outbox = createChangeOutbox({
        source: source('incrementing', { safetyDelayMs: 1000 }),
        map: (c) => {
          const row = c.after as { id: number; title: string };
          return [
            mapped(ItemAdded, { itemOwner: row.title.split(':')[0]!, id: Number(row.id), title: row.title }),
          ];
        },
        eventSource: 'urn:service:items',
      });
      const relay = createRelay({
        outbox,
        transport: bus,
        topics: [itemsTopic],
        batchSize: 20,
        idleWaitMs: 50,
      });
      relay.start();
      try {
        await Promise.all(
          Array.from({ length: owners }, async (_, w) => {
            const writer = await session();
            for (let i = 0; i < 12; i++) {
              await writer.begin();
              const ids: number[] = [];
              for (let r = 0; r <= i % 3; r++) ids.push(await writer.insert(`w${w}:${i}.${r}`));
              await sleep((w * 7 + i * 13) % 20); // others commit higher ids meanwhile
              if ((i + w) % 5 === 4) {
                await writer.rollback();
                for (const id of ids) rolledBack.add(id);
              } else {
                await writer.commit();
                for (const id of ids) committed.set(id, `w${w}`);
              }
            }
          }),
        );
        const onBus = async () =>
          (await bus.read(itemsTopic.name, { to: 'earliest' }, 100_000)).map((r) => ({
            key: r.key,
            envelope: decodeEnvelope(r.value),
          }));
        const deadline = Date.now() + 30_000;
        while ((await onBus()).length < committed.size && Date.now() < deadline) await sleep(100);
        await sleep(300); // nothing else may follow
        const events = await onBus();
        const ids = events.map((e) => (e.envelope.data as { id: number }).id);
        assert.equal(new Set(ids).size, ids.length, 'no duplicates');
        assert.deepEqual(
          [...ids].sort((x, y) => x - y),
          [...committed.keys()].sort((x, y) => x - y),
          'every committed row, no rolled-back one',
        );
        assert.ok(rolledBack.size > 0 && ids.every((id) => !rolledBack.has(id)));
        for (let w = 0; w < owners; w++) {
          const mine = events.filter((e) => e.key === `w${w}`).map((e) => e.envelope.sluiceseq);
          assert.deepEqual(
            mine,
            [...mine].sort((x, y) => x - y),
            `w${w}: in commit order`,
          );
          assert.equal(mine.length, [...committed.values()].filter((o) => o === `w${w}`).length);
        }
      } finally {
        await relay.stop();
        await outbox.close();
        await bus.close();
      }
    });

    it('fails with a permanent error naming a missing table or column, or a column of the wrong type', async () => {
      await assert.rejects(harness.polledTable({ table: 'nope', incrementingColumn: 'id' }).databaseNow(), {
        code: 'SLUICE_QUERY_TABLE_MISSING',
        retryable: false,
      });
      await assert.rejects(
        harness
          .polledTable({ table: 'items', incrementingColumn: 'title' })
          .fetch({ after: undefined, upTo: undefined, limit: 1 }),
        (e: Error & { code?: string; retryable?: boolean }) =>
          e.code === 'SLUICE_QUERY_COLUMN_INVALID' &&
          !e.retryable &&
          /column title .* is of type/.test(e.message),
      );
      await assert.rejects(
        harness
          .polledTable({ table: 'items', incrementingColumn: 'id', timestampColumn: 'missing' })
          .databaseNow(),
        (e: Error & { code?: string }) =>
          e.code === 'SLUICE_QUERY_COLUMN_INVALID' && /column missing of .* does not exist/.test(e.message),
      );
      assert.throws(() => harness.polledTable({ table: 'x"; DROP', incrementingColumn: 'id' }), {
        code: 'SLUICE_INVALID_OPTION',
      });
    });

    it('one process at a time reads a source: a second waits with a retryable error until the first stops', async () => {
      const writer = await session();
      await writer.insert('a');
      const first = source('incrementing', { name: 'items-lock' });
      const second = source('incrementing', { name: 'items-lock' });
      assert.equal((await first.read(10, 0)).length, 1);
      await assert.rejects(second.read(10, 0), { code: 'SLUICE_SOURCE_BUSY', retryable: true });
      await first.close();
      assert.equal((await second.read(10, 0)).length, 1, 'taken over once the first released the lock');
    });

    it('a reader whose lock session dies gives the source up to another, and waits for it again', async () => {
      const writer = await session();
      await writer.insert('a');
      const first = source('incrementing', { name: 'items-lost' });
      const second = source('incrementing', { name: 'items-lost' });
      assert.equal((await first.read(10, 0)).length, 1);
      await harness.killLockHolder('items-lost');
      const deadline = Date.now() + 10_000;
      let taken: RowChange[] | undefined;
      while (taken === undefined) {
        taken = await second.read(10, 0).catch((error: unknown) => {
          if ((error as { code?: string }).code !== 'SLUICE_SOURCE_BUSY' || Date.now() > deadline)
            throw error;
          return sleep(50).then(() => undefined);
        });
      }
      assert.equal(taken.length, 1, 'the second reads from the stored position');
      await assert.rejects(first.read(10, 0), { code: 'SLUICE_SOURCE_BUSY' }, 'the first noticed its loss');
    });

    it('keeps reading when the table gains a column, with the column in the later rows', async () => {
      const writer = await session();
      await writer.insert('before');
      const s = source('incrementing');
      assert.deepEqual(titles(await readAll(s, 1)), ['before']);
      await writer.insert('before 2');
      assert.deepEqual(
        titles(await readAll(s, 1)),
        ['before 2'],
        'the statement after a cursor, as it will run again',
      );
      await harness.addColumn('note');
      await writer.insert('after');
      const row = (await readAll(s, 1))[0]?.after;
      assert.equal(row?.['title'], 'after');
      assert.ok(row !== undefined && 'note' in row, 'the new column is in the row image');
    });
  });
}
