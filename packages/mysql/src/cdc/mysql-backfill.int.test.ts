import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type BackfillingSource, type RowChange, withBackfill } from '@sluice/core';
import { drainChanges, liveChangesInsideBackfill, startWriteLoops } from '@sluice/testing';
import { type TestDatabase, testDatabase, testUrl } from '../test-database.test-support.js';
import { createMysqlBackfillTables } from './mysql-backfill-tables.js';
import { MysqlChangeSource } from './mysql-change-source.js';
import { MysqlPositionStore } from './mysql-position-store.js';
import { createMysqlSnapshotter } from './mysql-snapshotter.js';

type Item = { id: number; value: string; n: number };

/** What a consumer keeps: the latest row per id. */
function apply(state: Map<string, Item>, change: RowChange): void {
  if (change.operation === 'delete') state.delete(String(change.before!['id']));
  else state.set(String(change.after!['id']), { ...(change.after as unknown as Item) });
}

describe('backfill with watermarks over the MariaDB binlog (MysqlSnapshotter, MysqlChangeSource)', () => {
  let db: TestDatabase;
  let table: string;

  before(async () => {
    db = testDatabase({ prefix: 'bf' });
    await createMysqlBackfillTables(db.pool, db.database);
    table = `\`${db.database}\`.items`;
    await db.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, value VARCHAR(40) NOT NULL, n INT NOT NULL)`);
    const rows = Array.from({ length: 3000 }, (_, i) => [i + 1, `initial-${i + 1}`, 0]);
    await db.query(`INSERT INTO ${table} VALUES ?`, [rows]);
  });
  after(async () => {
    await db.close();
  });

  const source = (): BackfillingSource =>
    withBackfill(
      new MysqlChangeSource({
        url: testUrl(),
        name: `${db.database}-bf`,
        positionStore: new MysqlPositionStore(db.pool, { database: db.database }),
        tables: [`${db.database}.items`, `${db.database}.cdc_watermark`],
      }),
      {
        snapshotter: createMysqlSnapshotter(db.pool, { database: db.database, chunkSize: 50 }),
        pollIntervalMs: 50,
      },
    );

  /** Updates, deletes and inserts random rows, one autocommit statement at a time, until stopped. */
  function writers(count: number): { stop(): Promise<number> } {
    return startWriteLoops(count, async (w, n) => {
      const id = 1 + Math.floor(Math.random() * 3300);
      const r = Math.random();
      if (r < 0.15) await db.query(`DELETE FROM ${table} WHERE id = ?`, [id]);
      else if (r < 0.3) await db.query(`INSERT IGNORE INTO ${table} VALUES (?, ?, 0)`, [id, `new-${w}`]);
      else await db.query(`UPDATE ${table} SET value = ?, n = n + 1 WHERE id = ?`, [`w${w}-${n}`, id]);
    });
  }

  const drain = (
    s: BackfillingSource,
    consumer: Map<string, Item>,
    until: (() => Promise<boolean>) | 'quiet',
    seen: RowChange[] = [],
  ) => drainChanges(s, (c) => apply(consumer, c), until, seen).then(() => seen);

  it('backfills a table while writers change it: the consumer ends up holding the table, row for row', async () => {
    const s = source();
    try {
      assert.deepEqual(await s.read(10, 200), [], 'the source saw changes before the test made any');
      const load = writers(3);
      const consumer = new Map<string, Item>();
      const seen: RowChange[] = [];
      await drain(s, consumer, async () => seen.length > 0, seen); // the writers are under way first
      const snapshotter = createMysqlSnapshotter(db.pool, { database: db.database });
      const id = await snapshotter.request({ source: s.name, schema: db.database, table: 'items' });
      const done = async () => (await snapshotter.list(s.name)).find((r) => r.id === id)?.status === 'done';
      await drain(s, consumer, done, seen);
      const writes = await load.stop();
      await drain(s, consumer, 'quiet', seen);

      const interleaved = liveChangesInsideBackfill(seen);
      assert.ok(interleaved >= 5, `only ${interleaved} of ${writes} live writes fell inside the backfill`);
      assert.ok(!seen.some((c) => c.table === 'cdc_watermark'), 'a watermark was handed over');
      const rows = await db.query<Item>(`SELECT id, value, n FROM ${table}`);
      const expected = new Map(rows.map((r) => [String(r.id), { ...r }]));
      assert.deepEqual([...consumer].sort(), [...expected].sort());
    } finally {
      await s.close();
    }
  });
});
