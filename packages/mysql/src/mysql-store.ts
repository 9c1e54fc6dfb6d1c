import type { InboxStore, OutboxStore, Store, StoreConfig, StoreMigration } from '@sluice/core';
import { SluiceError } from '@sluice/core';
import { maskUrl } from '@sluice/core/adapter';
import type mysql from 'mysql2/promise';
import { connectionError } from './errors.js';
import { createMysqlInbox } from './inbox/mysql-inbox.js';
import { assertMigrated, migrate, pendingMigrations, resolveDatabase } from './migrations/migrate.js';
import { createMysqlOutbox } from './outbox/mysql-outbox.js';

/**
 * The MySQL or MariaDB server a {@link StoreConfig} names (`mysql://` or `mariadb://`), as a {@link Store}
 * (what `createStore('mysql://…')` opens): one small `mysql2` pool (the application's driver, imported here),
 * Sluice's tables in `database`, else the URL's database.
 */
export async function createMysqlStore(config: StoreConfig & { kind: 'mysql' }): Promise<Store> {
  let driver: typeof mysql;
  try {
    driver = (await import('mysql2/promise')).default;
  } catch (cause) {
    throw new SluiceError(
      'SLUICE_ADAPTER_MISSING',
      'a MySQL / MariaDB database needs the mysql2 driver: npm install mysql2',
      { cause },
    );
  }
  const pool = driver.createPool({
    uri: config.url.replace(/^mariadb:/i, 'mysql:'),
    connectionLimit: 4,
    connectTimeout: 10_000,
  });
  const masked = maskUrl(config.url);
  const name = `${masked}${config.database === undefined ? '' : ` database ${config.database}`}`;
  const options = config.database === undefined ? {} : { database: config.database };
  const outboxes: (OutboxStore | InboxStore<unknown>)[] = [];
  let closed: Promise<void> | undefined;
  const naming = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw connectionError(error, masked) ?? error;
    }
  };
  const steps = (list: readonly StoreMigration[]): StoreMigration[] =>
    list.map((m) => ({ version: m.version, name: m.name, sql: m.sql }));
  return {
    kind: 'mysql',
    name,
    pendingMigrations: () => naming(async () => steps(await pendingMigrations(pool, options))),
    migrate: () => naming(async () => steps(await migrate(pool, options))),
    createOutbox: (open) =>
      naming(async () => {
        const database = await resolveDatabase(pool, config.database, 'sluice');
        await assertMigrated(pool, database, `${masked} database ${database}`);
        const outbox = await createMysqlOutbox(pool, { source: open.source, database });
        outboxes.push(outbox);
        return outbox;
      }),
    createInbox: () =>
      naming(async () => {
        const database = await resolveDatabase(pool, config.database, 'sluice');
        await assertMigrated(pool, database, `${masked} database ${database}`);
        const inbox = await createMysqlInbox(pool, { database });
        outboxes.push(inbox);
        return inbox as InboxStore<unknown>;
      }),
    close() {
      closed ??= (async () => {
        for (const o of outboxes) await o.close();
        await pool.end();
      })();
      return closed;
    },
  };
}
