import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InvalidOptionError } from '@sluice/core';
import { runPositionStoreConformance } from '@sluice/testing';
import { type TestDatabase, testDatabase } from '../test-database.test-support.js';
import { MysqlPositionStore } from './mysql-position-store.js';

let suiteDb: TestDatabase | undefined;

runPositionStoreConformance('MysqlPositionStore', {
  async setup() {
    suiteDb = testDatabase({ prefix: 'posc' });
    await suiteDb.query(`CREATE DATABASE \`${suiteDb.database}\``);
  },
  async teardown() {
    await suiteDb?.close();
    suiteDb = undefined;
  },
  open: async () =>
    new MysqlPositionStore(suiteDb!.pool, { database: suiteDb!.database, table: 'positions' }),
  sharedByInstances: true,
});

describe('MysqlPositionStore on a real server', () => {
  let db: TestDatabase;

  before(async () => {
    db = testDatabase({ prefix: 'pos' });
    await db.query(`CREATE DATABASE \`${db.database}\``);
  });

  after(async () => {
    await db.close();
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
