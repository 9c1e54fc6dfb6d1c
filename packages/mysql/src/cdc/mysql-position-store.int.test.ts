import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InvalidOptionError } from '@sluice/core';
import { type TestDatabase, testDatabase } from '../test-database.test-support.js';
import { MysqlPositionStore } from './mysql-position-store.js';

describe('MysqlPositionStore on a real server', () => {
  let db: TestDatabase;

  before(async () => {
    db = testDatabase({ prefix: 'pos' });
    await db.query(`CREATE DATABASE \`${db.database}\``);
  });

  after(async () => {
    await db.close();
  });

  it('makes its table on first use; loads undefined, then the last position saved, per name', async () => {
    const store = new MysqlPositionStore(db.pool, { database: db.database, table: 'positions' });
    assert.equal(await store.load('a'), undefined);
    await store.save('a', '0-1-5');
    await store.save('b', '0-1-6,1-2-3');
    await store.save('a', '0-1-9');
    assert.equal(await store.load('a'), '0-1-9');
    assert.equal(await store.load('b'), '0-1-6,1-2-3');
    // Another store (another process) on the same table sees what was saved: it is in the database.
    const other = new MysqlPositionStore(db.pool, { database: db.database, table: 'positions' });
    assert.equal(await other.load('a'), '0-1-9');
    const rows = await db.query<{ name: string; updated_at: Date }>(
      `SELECT name, updated_at FROM \`${db.database}\`.positions ORDER BY name`,
    );
    assert.deepEqual(
      rows.map((r) => r.name),
      ['a', 'b'],
    );
    assert.ok(rows.every((r) => r.updated_at instanceof Date));
  });

  it('saves in its own autocommitted statement: a rolled-back transaction elsewhere does not undo it', async () => {
    const store = new MysqlPositionStore(db.pool, { database: db.database });
    await db.query(`CREATE TABLE \`${db.database}\`.scratch (id INT PRIMARY KEY) ENGINE=InnoDB`);
    const c = await db.connection();
    await c.beginTransaction();
    await c.query(`INSERT INTO \`${db.database}\`.scratch VALUES (1)`);
    await store.save('auto', '0-1-42');
    await c.rollback();
    assert.equal((await db.query(`SELECT * FROM \`${db.database}\`.scratch`)).length, 0);
    assert.equal(await new MysqlPositionStore(db.pool, { database: db.database }).load('auto'), '0-1-42');
  });

  it('names a bad table option', () => {
    assert.throws(
      () => new MysqlPositionStore(db.pool, { table: 'bad name' }),
      (e: unknown) => e instanceof InvalidOptionError && /table/.test(e.message),
    );
  });
});
