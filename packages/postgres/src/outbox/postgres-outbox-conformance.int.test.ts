import { type OutboxWriter, runOutboxStoreConformance } from '@sluice/testing';
import { migrate } from '../migrations/migrate.js';
import { fromPg } from '../pg-client.js';
import { type TestDatabase, testDatabase } from '../test-database.test-support.js';
import { createPostgresOutbox, type PostgresOutbox } from './postgres-outbox.js';

let db: TestDatabase | undefined;
const opened: PostgresOutbox[] = [];
const open = () => {
  if (db === undefined) throw new Error('setup() first');
  return db;
};

runOutboxStoreConformance<PostgresOutbox>('PostgresOutbox', {
  async setup() {
    db = testDatabase({ prefix: 'outconf', max: 12 });
    await migrate(fromPg(db.pool), db.schema);
  },
  async teardown() {
    for (const o of opened.splice(0)) await o.close();
    await db?.close();
    db = undefined;
  },
  async open(source) {
    const o = await createPostgresOutbox(open().pool, { source, schema: open().schema });
    opened.push(o);
    return o;
  },
  async writer(store): Promise<OutboxWriter> {
    const c = await open().client();
    // Detect deadlocks sooner than the default 1 s (needs a superuser, as the test server's user is).
    await c.query("SET deadlock_timeout = '100ms'").catch(() => undefined);
    const tx = fromPg(c);
    return {
      async begin() {
        await c.query('BEGIN');
        // Take the transaction id now: a writer waiting before its first append is the Y of the Y/W/X case.
        await c.query('SELECT pg_current_xact_id()');
      },
      append: (contract, data, context) => store.append(tx, contract, data, context),
      commit: async () => void (await c.query('COMMIT')),
      rollback: async () => void (await c.query('ROLLBACK')),
    };
  },
  overlappingWriters: true,
  isDeadlock: (error) => (error as { code?: string }).code === '40P01',
  wakeWithinMs: 100,
  /** Holds a transaction id open for a while, as an unrelated long transaction (the W) would. */
  async hazard(until) {
    const c = await open().client();
    while (Date.now() < until - 500) {
      await c.query('BEGIN');
      await c.query('SELECT pg_current_xact_id()');
      await c.query('SELECT pg_sleep(1.2)');
      await c.query('COMMIT');
    }
  },
});
