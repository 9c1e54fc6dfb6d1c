import type { InboxStore, Store, StoreConfig } from '@sluice/core';
import { SluiceError } from '@sluice/core';
import { maskUrl, storeOf } from '@sluice/core/adapter';
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
  const options = config.database === undefined ? {} : { database: config.database };
  /** The database holding Sluice's tables, checked to be migrated. */
  const migrated = async () => {
    const database = await resolveDatabase(pool, config.database, 'sluice');
    await assertMigrated(pool, database, `${masked} database ${database}`);
    return database;
  };
  return storeOf({
    kind: 'mysql',
    name: `${masked}${config.database === undefined ? '' : ` database ${config.database}`}`,
    connectionError: (error) => connectionError(error, masked),
    pendingMigrations: () => pendingMigrations(pool, options),
    migrate: () => migrate(pool, options),
    createOutbox: async (open) =>
      createMysqlOutbox(pool, { source: open.source, database: await migrated() }),
    createInbox: async () =>
      (await createMysqlInbox(pool, { database: await migrated() })) as InboxStore<unknown>,
    close: () => pool.end(),
  });
}
