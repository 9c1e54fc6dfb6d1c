import type { ChangeSource } from '@sluice/core';
import { type ChangeWriter, runChangeSourceConformance } from '@sluice/testing';
import { type TestDatabase, testDatabase, testUrl } from '../test-database.test-support.js';
import { createChangeCapture, dropChangeCapture } from './change-capture-setup.js';
import { PostgresChangeSource } from './postgres-change-source.js';

let db: TestDatabase | undefined;
const sources: ChangeSource[] = [];
const open = () => {
  if (db === undefined) throw new Error('setup() first');
  return db;
};
const capture = () => ({ slot: `${open().schema}_slot`, publication: `${open().schema}_pub` });

runChangeSourceConformance('PostgresChangeSource (pgoutput)', {
  async setup() {
    db = testDatabase({ prefix: 'cdcc' });
    await db.query(`CREATE SCHEMA "${db.schema}"`);
    await db.query(`CREATE TABLE "${db.schema}".items (id int PRIMARY KEY, title text NOT NULL)`);
    await createChangeCapture(db.pool, {
      ...capture(),
      tables: [`${db.schema}.items`],
      fullBeforeImages: true,
    });
  },
  async teardown() {
    for (const s of sources.splice(0)) await s.close();
    // Never leave a slot behind on the shared server: it would hold WAL for good.
    await dropChangeCapture(open().pool, capture()).catch(() => undefined);
    await db?.close();
    db = undefined;
  },
  source() {
    const s = new PostgresChangeSource({ connectionString: testUrl(), ...capture() });
    sources.push(s);
    return s;
  },
  transactions: true,
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
