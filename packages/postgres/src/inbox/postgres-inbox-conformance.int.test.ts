import { runInboxStoreConformance } from '@sluice/testing';
import { migrate } from '../migrations/migrate.js';
import { fromPg, type SqlExecutor } from '../pg-client.js';
import { type TestDatabase, testDatabase } from '../test-database.test-support.js';
import { createPostgresInbox } from './postgres-inbox.js';

runInboxStoreConformance<SqlExecutor>('PostgresInbox', () => {
  let db: TestDatabase;
  return {
    async open() {
      db = testDatabase({ prefix: 'chain' });
      await migrate(fromPg(db.pool), db.schema);
      await db.query(`CREATE TABLE "${db.schema}".effect (name text PRIMARY KEY)`);
      return createPostgresInbox(db.pool, { schema: db.schema });
    },
    another: () => createPostgresInbox(db.pool, { schema: db.schema }),
    write: (tx, effect) => tx.execute(`INSERT INTO "${db.schema}".effect (name) VALUES ($1)`, [effect]),
    effects: async () =>
      (await db.query<{ name: string }>(`SELECT name FROM "${db.schema}".effect`)).map((r) => r.name),
    concurrentTransactions: true,
    close: () => db.close(),
  };
});
