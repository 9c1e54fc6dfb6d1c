import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestDatabase, testDatabase } from '../test-database.test-support.js';
import { createMysqlBackfillTables } from './mysql-backfill-tables.js';
import { createMysqlSnapshotter } from './mysql-snapshotter.js';

describe('MysqlSnapshotter on a real MariaDB', () => {
  let db: TestDatabase;

  before(async () => {
    db = testDatabase({ prefix: 'snap' });
    await createMysqlBackfillTables(db.pool, db.database);
    await createMysqlBackfillTables(db.pool, db.database); // idempotent
    const d = `\`${db.database}\``;
    await db.query(
      `CREATE TABLE ${d}.seats (room VARCHAR(8) NOT NULL, seat INT NOT NULL, holder VARCHAR(40), PRIMARY KEY (room, seat))`,
    );
    await db.query(`CREATE TABLE ${d}.notes (body TEXT)`);
    const rows: unknown[] = [];
    for (const room of ['A', 'B', 'C', 'D'])
      for (let seat = 1; seat <= 250; seat++) rows.push([room, seat, `h-${room}${seat}`]);
    await db.query(`INSERT INTO ${d}.seats VALUES ?`, [rows]);
  });

  after(async () => {
    await db.close();
  });

  const snapshotter = () => createMysqlSnapshotter(db.pool, { database: db.database, chunkSize: 70 });

  it('reads values as the binlog source decodes them: BIGINT and DECIMAL as strings, dates as text', async () => {
    const d = `\`${db.database}\``;
    await db.query(
      `CREATE TABLE ${d}.typed (id BIGINT PRIMARY KEY, price DECIMAL(10,2), starts DATETIME(3), day DATE, n INT)`,
    );
    await db.query(
      `INSERT INTO ${d}.typed VALUES (9007199254740993, 12.50, '2026-01-02 03:04:05.678', '2026-01-02', 7)`,
    );
    const s = snapshotter();
    const request = {
      id: '0',
      source: 'x',
      schema: db.database,
      table: 'typed',
      where: undefined,
      chunkSize: 10,
      afterKey: undefined,
      rowsDelivered: 0,
    };
    const [row] = await s.readChunk(request, ['id'], undefined, 10);
    assert.deepEqual(
      { ...row },
      { id: '9007199254740993', price: '12.50', starts: '2026-01-02 03:04:05.678', day: '2026-01-02', n: 7 },
    );
    // Paging after a BIGINT key beyond 2^53 stays exact.
    assert.deepEqual(await s.readChunk(request, ['id'], ['9007199254740992'], 10), [row]);
    assert.deepEqual(await s.readChunk(request, ['id'], ['9007199254740993'], 10), []);
  });

  it('refuses what it could not run, cancels on request, and writes watermarks as one row per source', async () => {
    const s = snapshotter();
    await assert.rejects(s.request({ source: 'x', schema: db.database, table: 'notes' }), {
      code: 'SLUICE_BACKFILL_NO_PRIMARY_KEY',
    });
    await assert.rejects(
      s.request({ source: 'x', schema: db.database, table: 'seats', where: 'sear > 3' }),
      (err: Error) => {
        assert.match(err.message, /where.*sear/s);
        return true;
      },
    );
    const id = await s.request({ source: 'x', schema: db.database, table: 'seats' });
    assert.equal(await s.cancel(id), true);
    assert.equal(await s.cancel(id), false);
    assert.deepEqual(await s.pending('x'), []);

    await s.writeWatermark('x', 'low:1');
    await s.writeWatermark('x', 'high:1');
    await s.writeWatermark('y', 'low:2');
    const marks = await db.query<{ source: string; watermark: string }>(
      `SELECT source, watermark FROM \`${db.database}\`.cdc_watermark ORDER BY source`,
    );
    assert.deepEqual(
      marks.map((m) => ({ ...m })),
      [
        { source: 'x', watermark: 'high:1' },
        { source: 'y', watermark: 'low:2' },
      ],
    );
    const change = {
      operation: 'update' as const,
      schema: db.database,
      table: 'cdc_watermark',
      before: undefined,
      after: { source: 'x', watermark: 'high:1' },
      transactionId: '0-1-1',
      commitTime: 0,
      position: 'p',
      sequence: 1,
      index: 0,
    };
    assert.deepEqual(s.watermarkOf(change), { source: 'x', watermark: 'high:1' });
    assert.equal(s.watermarkOf({ ...change, table: 'seats' }), undefined);
    assert.equal(s.watermarkOf({ ...change, schema: 'elsewhere' }), undefined);
  });
});
