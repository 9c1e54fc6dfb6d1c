import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createQueryChangeSource } from '@sluice/core';
import { memoryPositionStore, runPolledTableConformance, type WriterSession } from '@sluice/testing';
import { type TestDatabase, testDatabase } from '../test-database.test-support.js';
import { createMysqlPolledTable } from './mysql-polled-table.js';

let db: TestDatabase | undefined;
const open = () => {
  if (db === undefined) throw new Error('setup() first');
  return db;
};

runPolledTableConformance('MariaDB', {
  async setup() {
    db = testDatabase({ prefix: 'poll', max: 2 }); // the reading lock's connection and one for the rest
    await db.query(`CREATE DATABASE \`${db.database}\``);
    await db.query(
      `CREATE TABLE \`${db.database}\`.items (id INT AUTO_INCREMENT PRIMARY KEY, title VARCHAR(200) NOT NULL,
         updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), KEY (updated_at, id))`,
    );
  },
  async teardown() {
    await db?.close();
    db = undefined;
  },
  polledTable(columns) {
    const { pool, database } = open();
    return createMysqlPolledTable(pool, { database, ...columns });
  },
  async session(): Promise<WriterSession> {
    const d = open();
    const c = await d.connection();
    const items = `\`${d.database}\`.items`;
    return {
      begin: () => c.beginTransaction(),
      commit: () => c.commit(),
      rollback: () => c.rollback(),
      async insert(title) {
        const [result] = await c.query(`INSERT INTO ${items} (title) VALUES (?)`, [title]);
        return (result as { insertId: number }).insertId;
      },
      async update(id, title) {
        await c.query(`UPDATE ${items} SET title = ?, updated_at = NOW(6) WHERE id = ?`, [title, id]);
      },
      close: async () => undefined, // closed with the database
    };
  },
  async addColumn(name) {
    await open().query(`ALTER TABLE \`${open().database}\`.items ADD COLUMN \`${name}\` TEXT`);
  },
  async killLockHolder(name) {
    const key = `sluice_query:${createHash('sha1').update(name).digest('hex')}`;
    const [holder] = await open().query<{ id: number | null }>('SELECT IS_USED_LOCK(?) AS id', [key]);
    assert.ok(holder?.id, 'the lock is held');
    await open().query(`KILL ${Number(holder.id)}`);
  },
});

describe('mysqlPolledTable: columns and types', () => {
  let d: TestDatabase;
  before(async () => {
    d = testDatabase({ prefix: 'pollt' });
    await d.query(`CREATE DATABASE \`${d.database}\``);
    await d.query(
      `CREATE TABLE \`${d.database}\`.\`Local\` (\`Id\` BIGINT PRIMARY KEY, note TEXT, changed DATETIME(6) NOT NULL)`,
    );
  });
  after(() => d.close());

  it('polls a DATETIME(6) column on the session clock, exactly, with quoted mixed-case names and ids beyond 2^32', async () => {
    await d.query(
      `INSERT INTO \`${d.database}\`.\`Local\` VALUES (9007199254740991, 'max id', NOW(6) - INTERVAL 1 MINUTE),
         (2, 'two', '2026-01-02 03:04:05.123456'), (3, 'future', NOW(6) + INTERVAL 1 HOUR)`,
    );
    const s = createQueryChangeSource({
      table: createMysqlPolledTable(d.pool, {
        database: d.database,
        table: 'Local',
        incrementingColumn: 'Id',
        timestampColumn: 'changed',
      }),
      positions: memoryPositionStore(),
      safetyDelayMs: 1000,
    });
    const changes = await s.read(10, 0).finally(() => s.close());
    assert.deepEqual(
      changes.map((c) => [c.index, c.after!['note']]),
      [
        [2, 'two'],
        [9007199254740991, 'max id'],
      ],
      'the future row is not yet older than the delay',
    );
    assert.equal(
      changes[0]!.sequence,
      Date.UTC(2026, 0, 2, 3, 4, 5) * 1000 + 123456,
      'exact to the microsecond',
    );
    assert.equal(changes[0]!.transactionId, '2@2026-01-02 03:04:05.123456');
  });
});
