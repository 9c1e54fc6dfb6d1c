import type { ChangeSource } from '@sluice/core';
import { type ChangeWriter, runChangeSourceConformance } from '@sluice/testing';
import { type TestDatabase, testDatabase, testUrl } from '../test-database.test-support.js';
import { MysqlChangeSource } from './mysql-change-source.js';
import { MysqlPositionStore } from './mysql-position-store.js';

let db: TestDatabase | undefined;
let positions: MysqlPositionStore | undefined;
const sources: ChangeSource[] = [];
const open = () => {
  if (db === undefined) throw new Error('setup() first');
  return db;
};

runChangeSourceConformance('MysqlChangeSource (binlog)', {
  async setup() {
    db = testDatabase({ prefix: 'cdcc' });
    await db.query(`CREATE DATABASE \`${db.database}\``);
    await db.query(
      `CREATE TABLE \`${db.database}\`.items (id INT PRIMARY KEY, title TEXT NOT NULL) ENGINE=InnoDB`,
    );
    positions = new MysqlPositionStore(db.pool, { database: db.database });
  },
  async teardown() {
    for (const s of sources.splice(0)) await s.close();
    await db?.close();
    db = undefined;
  },
  source() {
    const s = new MysqlChangeSource({
      url: testUrl(),
      name: open().database, // the stream: one stored position per case
      positionStore: positions!,
      tables: [`${open().database}.items`],
    });
    sources.push(s);
    return s;
  },
  transactions: true,
  async writer(): Promise<ChangeWriter> {
    const c = await open().connection();
    const items = `\`${open().database}\`.items`;
    const run = async (sql: string, values: unknown[] = []) => void (await c.query(sql, values));
    return {
      begin: () => c.beginTransaction(),
      commit: () => c.commit(),
      rollback: () => c.rollback(),
      insert: (id, title) => run(`INSERT INTO ${items} (id, title) VALUES (?, ?)`, [id, title]),
      update: (id, title) => run(`UPDATE ${items} SET title = ? WHERE id = ?`, [title, id]),
      delete: (id) => run(`DELETE FROM ${items} WHERE id = ?`, [id]),
    };
  },
});
