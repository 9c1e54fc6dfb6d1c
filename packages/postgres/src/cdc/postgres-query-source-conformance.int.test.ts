import { type ChangeSource, createQueryChangeSource } from '@sluice/core';
import { type ChangeWriter, memoryPositionStore, runChangeSourceConformance } from '@sluice/testing';
import { type TestDatabase, testDatabase } from '../test-database.test-support.js';
import { createPostgresPolledTable } from './postgres-polled-table.js';

let db: TestDatabase | undefined;
let positions = memoryPositionStore();
const sources: ChangeSource[] = [];
const open = () => {
  if (db === undefined) throw new Error('setup() first');
  return db;
};

runChangeSourceConformance('queryChangeSource on PostgreSQL (incrementing)', {
  async setup() {
    db = testDatabase({ prefix: 'qsc' });
    await db.query(`CREATE SCHEMA "${db.schema}"`);
    await db.query(`CREATE TABLE "${db.schema}".items (id int PRIMARY KEY, title text NOT NULL)`);
    positions = memoryPositionStore(); // outlives the case's readers, as a file or table would
  },
  async teardown() {
    for (const s of sources.splice(0)) await s.close();
    await db?.close();
    db = undefined;
  },
  source() {
    const s = createQueryChangeSource({
      table: createPostgresPolledTable(open().pool, {
        schema: open().schema,
        table: 'items',
        incrementingColumn: 'id',
      }),
      positions,
      name: `query:${open().schema}`,
      safetyDelayMs: 300,
      pollIntervalMs: 50,
    });
    sources.push(s);
    return s;
  },
  transactions: false,
  async writer(): Promise<ChangeWriter> {
    const c = await open().client();
    const items = `"${open().schema}".items`;
    const run = async (sql: string, values: unknown[] = []) => void (await c.query(sql, values));
    return {
      begin: () => run('BEGIN'),
      commit: () => run('COMMIT'),
      rollback: () => run('ROLLBACK'),
      insert: (id, title) => run(`INSERT INTO ${items} (id, title) VALUES ($1, $2)`, [id, title]),
      update: (id, title) => run(`UPDATE ${items} SET title = $2 WHERE id = $1`, [id, title]),
      delete: (id) => run(`DELETE FROM ${items} WHERE id = $1`, [id]),
    };
  },
});
