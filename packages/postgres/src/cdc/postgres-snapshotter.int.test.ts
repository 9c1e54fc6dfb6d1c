import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type BackfillingSource, type RowChange, withBackfill } from '@sluice/core';
import { drainChanges, liveChangesInsideBackfill, startWriteLoops } from '@sluice/testing';
import { sleep, type TestDatabase, testDatabase, testUrl } from '../test-database.test-support.js';
import { createChangeCapture, dropChangeCapture } from './change-capture-setup.js';
import { PostgresChangeSource } from './postgres-change-source.js';
import { createPostgresSnapshotter } from './postgres-snapshotter.js';

type Item = { id: string; value: string; n: number };

/** What a consumer keeps: the latest row per id. */
function apply(state: Map<string, Item>, change: RowChange): void {
  if (change.operation === 'delete') state.delete(String(change.before!['id']));
  else state.set(String(change.after!['id']), change.after as unknown as Item);
}

describe('backfill with watermarks (PostgresSnapshotter) on a real server', () => {
  let db: TestDatabase;
  let slot: string;
  let publication: string;
  let table: string;

  before(async () => {
    db = testDatabase({ prefix: 'bf' });
    slot = `${db.schema}_slot`;
    publication = `${db.schema}_pub`;
    table = `"${db.schema}".items`;
    await db.query(`CREATE SCHEMA "${db.schema}"`);
    await db.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, value text NOT NULL, n int NOT NULL)`);
    await db.query(`CREATE TABLE "${db.schema}".keyless (note text)`);
    await db.query(`INSERT INTO ${table} SELECT g, 'initial-' || g, 0 FROM generate_series(1, 3000) g`);
    await createChangeCapture(db.pool, {
      slot,
      publication,
      tables: [table.replaceAll('"', '')],
      backfillSchema: db.schema,
    });
  });

  after(async () => {
    await dropChangeCapture(db.pool, { slot, publication }).catch(() => undefined);
    await db.close();
  });

  const snapshotter = () => createPostgresSnapshotter(db.pool, { schema: db.schema, chunkSize: 150 });
  const source = () =>
    withBackfill(new PostgresChangeSource({ connectionString: testUrl(), slot, publication }), {
      snapshotter: snapshotter(),
      pollIntervalMs: 50,
    });
  const requestStatus = async (id: string) =>
    (
      await db.query<{ status: string }>(`SELECT status FROM "${db.schema}".cdc_backfill WHERE id = $1`, [id])
    )[0]!.status;

  /** Updates, deletes and inserts random rows, one small transaction at a time, until stopped. */
  function writers(count: number): { stop(): Promise<number> } {
    return startWriteLoops(count, async (w, n) => {
      const id = 1 + Math.floor(Math.random() * 3300);
      const r = Math.random();
      if (r < 0.15) await db.query(`DELETE FROM ${table} WHERE id = $1`, [id]);
      else if (r < 0.3)
        await db.query(`INSERT INTO ${table} VALUES ($1, $2, 0) ON CONFLICT (id) DO NOTHING`, [
          id,
          `new-${w}`,
        ]);
      else await db.query(`UPDATE ${table} SET value = $2, n = n + 1 WHERE id = $1`, [id, `w${w}-${n}`]);
    });
  }

  const drain = (
    s: BackfillingSource,
    consumer: Map<string, Item>,
    until: (() => Promise<boolean>) | 'quiet',
    seen: RowChange[] = [],
  ) => drainChanges(s, (c) => apply(consumer, c), until, seen).then(() => seen);

  async function tableState(): Promise<Map<string, Item>> {
    const rows = await db.query<Item>(`SELECT * FROM ${table}`);
    return new Map(rows.map((r) => [String(r.id), { ...r }]));
  }

  it('backfills a whole table while writers change it: the consumer ends up holding the table, row for row', async () => {
    const s = source();
    try {
      assert.deepEqual(await s.read(10, 100), [], 'the slot saw changes before the test made any');
      const load = writers(3);
      const consumer = new Map<string, Item>();
      const seen: RowChange[] = [];
      await drain(s, consumer, async () => seen.length > 0, seen); // the writers are under way first
      const id = await snapshotter().request({ source: s.name, schema: db.schema, table: 'items' });
      await drain(s, consumer, async () => (await requestStatus(id)) === 'done', seen);
      const writes = await load.stop();
      await drain(s, consumer, 'quiet', seen);
      const snapshots = seen.filter((c) => c.operation === 'snapshot').length;
      // The property under test needs live changes inside the backfill, between its first and last rows.
      const interleaved = liveChangesInsideBackfill(seen);
      assert.ok(interleaved >= 5, `only ${interleaved} of ${writes} live writes fell inside the backfill`);
      assert.ok(snapshots > 2000, `only ${snapshots} snapshot rows`);
      assert.ok(!seen.some((c) => c.table === 'cdc_watermark'), 'a watermark was handed over');
      assert.deepEqual([...consumer].sort(), [...(await tableState())].sort());
      const [progress] = await db.query<{ rows_delivered: string; after_key: unknown[] }>(
        `SELECT rows_delivered, after_key FROM "${db.schema}".cdc_backfill WHERE id = $1`,
        [id],
      );
      assert.equal(Number(progress!.rows_delivered), snapshots);
    } finally {
      await s.close();
    }
  });

  it('resumes after the reader dies mid-backfill, from the last chunk delivered whole', async () => {
    let s = source();
    await drain(s, new Map(), 'quiet'); // whatever earlier cases left
    // Changes this consumer never saw (another consumer took them): it starts empty after them.
    const { rowCount } = await db.pool.query(`UPDATE ${table} SET value = 'drifted'`);
    let skipped = 0;
    while (skipped < rowCount!) {
      const changes = await s.read(1000, 200);
      skipped += changes.length;
      if (changes.length > 0) await s.acknowledge(changes.at(-1)!.position);
    }
    const consumer = new Map<string, Item>();
    const id = await snapshotter().request({
      source: s.name,
      schema: db.schema,
      table: 'items',
      where: 'id > 1000',
    });
    const load = writers(2);
    // Read and acknowledge about a third of the backfill, then die without acknowledging what follows.
    let snapshots = 0;
    while (snapshots < 700) {
      const changes = await s.read(100, 100);
      snapshots += changes.filter((c) => c.operation === 'snapshot').length;
      for (const c of changes) apply(consumer, c);
      if (changes.length > 0) await s.acknowledge(changes.at(-1)!.position);
    }
    await s.read(500, 0); // read, never acknowledged
    await s.close();
    const [saved] = await db.query<{ after_key: string[]; status: string }>(
      `SELECT after_key, status FROM "${db.schema}".cdc_backfill WHERE id = $1`,
      [id],
    );
    assert.equal(saved!.status, 'pending');
    assert.ok(Number(saved!.after_key[0]) > 1000, 'no progress was saved');

    s = source();
    try {
      const seen = await drain(s, consumer, async () => (await requestStatus(id)) === 'done');
      await load.stop();
      await drain(s, consumer, 'quiet', seen);
      const resumedFrom = seen.find((c) => c.operation === 'snapshot')!;
      assert.ok(Number(resumedFrom.after!['id']) > Number(saved!.after_key[0]), 'the backfill started over');
      // The rows the backfill covered (id > 1000) and every row changed since are exactly the table's.
      const expected = [...(await tableState())].filter(
        ([k, v]) => Number(k) > 1000 || v.value !== 'drifted',
      );
      assert.deepEqual([...consumer].sort(), expected.sort());
    } finally {
      await s.close();
    }
  });

  it('refuses a backfill it could not run, and cancels one on request', async () => {
    const snap = snapshotter();
    await assert.rejects(snap.request({ source: 'x', schema: db.schema, table: 'keyless' }), {
      code: 'SLUICE_BACKFILL_NO_PRIMARY_KEY',
    });
    await assert.rejects(snap.request({ source: 'x', schema: db.schema, table: 'missing' }), {
      code: 'SLUICE_BACKFILL_NO_PRIMARY_KEY',
    });
    await assert.rejects(
      snap.request({ source: 'x', schema: db.schema, table: 'items', where: 'idd > 3' }),
      (err: Error) => {
        assert.match(err.message, /where.*idd/s);
        return true;
      },
    );
    await assert.rejects(snap.request({ source: 'x', schema: db.schema, table: 'items', chunkSize: 0 }), {
      code: 'SLUICE_INVALID_OPTION',
    });

    const s = source();
    try {
      await drain(s, new Map(), 'quiet');
      const id = await snap.request({ source: s.name, schema: db.schema, table: 'items', chunkSize: 10 });
      let snapshots = 0;
      while (snapshots < 30)
        snapshots += (await s.read(100, 100)).filter((c) => c.operation === 'snapshot').length;
      assert.equal(await snap.cancel(id), true);
      assert.equal(await snap.cancel(id), false);
      await sleep(200);
      let after = 0;
      for (let i = 0; i < 10; i++)
        after += (await s.read(1000, 50)).filter((c) => c.operation === 'snapshot').length;
      assert.ok(after <= 20, `${after} snapshot rows after the cancel`);
      const listed = (await snap.list(s.name)).find((r) => r.id === id)!;
      assert.equal(listed.status, 'cancelled');
    } finally {
      await s.close();
    }
  });
});
