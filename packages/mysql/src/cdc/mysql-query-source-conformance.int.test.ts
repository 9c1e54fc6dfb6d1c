import { type ChangeSource, createQueryChangeSource } from '@sluice/core';
import { type ChangeWriter, memoryPositionStore, runChangeSourceConformance } from '@sluice/testing';
import { type TestDatabase, testDatabase } from '../test-database.test-support.js';
import { createMysqlPolledTable } from './mysql-polled-table.js';

let db: TestDatabase | undefined;
let positions = memoryPositionStore();
const sources: ChangeSource[] = [];
const open = () => {
  if (db === undefined) throw new Error('setup() first');
  return db;
};

runChangeSourceConformance('queryChangeSource on MySQL (incrementing)', {
  async setup() {
    db = testDatabase({ prefix: 'qsc' });
    await db.query(`CREATE DATABASE \`${db.database}\``);
    await db.query(
      `CREATE TABLE \`${db.database}\`.items (id INT PRIMARY KEY, title TEXT NOT NULL) ENGINE=InnoDB`,
    );
    positions = memoryPositionStore(); // outlives the case's readers, as a file or table would
  },
  async teardown() {
    for (const s of sources.splice(0)) await s.close();
    await db?.close();
    db = undefined;
  },
  source() {
    const s = createQueryChangeSource({
      table: createMysqlPolledTable(open().pool, {
        database: open().database,
        table: 'items',
        incrementingColumn: 'id',
      }),
      positions,
      name: `query:${open().database}`,
      safetyDelayMs: 300,
      pollIntervalMs: 50,
    });
    sources.push(s);
    return s;
  },
  transactions: false,
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
