import { runInboxStoreConformance } from '@sluice/testing';
import { migrate } from '../migrations/migrate.js';
import type { SqlExecutor } from '../mysql-client.js';
import { type TestDatabase, testDatabase } from '../test-database.test-support.js';
import { createMysqlInbox } from './mysql-inbox.js';

runInboxStoreConformance<SqlExecutor>('MysqlInbox', () => {
  let db: TestDatabase;
  return {
    async open() {
      db = testDatabase({ prefix: 'chain' });
      await migrate(db.pool, { database: db.database });
      await db.query(
        `CREATE TABLE \`${db.database}\`.effect (name VARCHAR(40) NOT NULL PRIMARY KEY) ENGINE=InnoDB`,
      );
      return createMysqlInbox(db.pool, { database: db.database });
    },
    another: () => createMysqlInbox(db.pool, { database: db.database }),
    write: (tx, effect) => tx.write(`INSERT INTO \`${db.database}\`.effect (name) VALUES (?)`, [effect]),
    effects: async () =>
      (await db.query<{ name: string }>(`SELECT name FROM \`${db.database}\`.effect`)).map((r) => r.name),
    concurrentTransactions: true,
    close: () => db.close(),
  };
});
