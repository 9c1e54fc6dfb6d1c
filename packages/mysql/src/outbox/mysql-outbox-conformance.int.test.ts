import { type OutboxWriter, runOutboxStoreConformance } from '@sluice/testing';
import { migrate } from '../migrations/migrate.js';
import { fromMysql } from '../mysql-client.js';
import { type TestDatabase, testDatabase } from '../test-database.test-support.js';
import { createMysqlOutbox, type MysqlOutbox } from './mysql-outbox.js';

let db: TestDatabase | undefined;
const opened: MysqlOutbox[] = [];
const open = () => {
  if (db === undefined) throw new Error('setup() first');
  return db;
};

runOutboxStoreConformance<MysqlOutbox>('MysqlOutbox', {
  async setup() {
    db = testDatabase({ prefix: 'outconf', max: 12 });
    await migrate(db.pool, { database: db.database });
  },
  async teardown() {
    for (const o of opened.splice(0)) await o.close();
    await db?.close();
    db = undefined;
  },
  async open(source) {
    const o = await createMysqlOutbox(open().pool, { source, database: open().database, pollIntervalMs: 20 });
    opened.push(o);
    return o;
  },
  async writer(store): Promise<OutboxWriter> {
    const c = await open().connection();
    const tx = fromMysql(c);
    return {
      begin: () => c.beginTransaction(),
      append: (contract, data, context) => store.append(tx, contract, data, context),
      commit: () => c.commit(),
      rollback: () => c.rollback(),
    };
  },
  overlappingWriters: true,
  isDeadlock: (error) => (error as { code?: string }).code === 'ER_LOCK_DEADLOCK',
  wakeWithinMs: 100,
});
