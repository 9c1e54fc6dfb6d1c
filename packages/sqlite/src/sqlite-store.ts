import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { InboxStore, Store, StoreConfig } from '@sluice/core';
import { SluiceError } from '@sluice/core';
import { storeOf } from '@sluice/core/adapter';
import { createSqliteInbox } from './inbox/sqlite-inbox.js';
import { MIGRATIONS, migrate, pendingMigrations } from './migrations/migrate.js';
import { openDatabase, type SqliteDatabase } from './open-database.js';
import { createSqliteOutbox } from './outbox/sqlite-outbox.js';

/**
 * The SQLite file a {@link StoreConfig} names, as a {@link Store} (what `createStore('app.db')` opens). The
 * file is opened on first use; `pendingMigrations()` on a file that does not exist lists every migration and
 * creates nothing, `createOutbox` and `createInbox` refuse it (run `migrate()` first). A relay's outbox gets its
 * own connection with `synchronous = NORMAL`: it only deletes delivered rows and renews its lease, and if a power
 * cut undoes such a write the rows are sent again (consumers de-duplicate), so it need not hold the write lock
 * for an fsync.
 */
export function createSqliteStore(config: StoreConfig & { kind: 'sqlite' }): Store {
  const path = resolve(config.path);
  const opened: SqliteDatabase[] = [];
  let main: SqliteDatabase | undefined;
  const open = (synchronous?: 'NORMAL') => {
    const db = openDatabase(path, synchronous === undefined ? {} : { synchronous });
    opened.push(db);
    return db;
  };
  const database = () => {
    main ??= open();
    return main;
  };
  const mustExist = () => {
    if (!existsSync(path)) {
      throw new SluiceError(
        'SLUICE_MIGRATION_REQUIRED',
        `${path} does not exist: run \`sluice migrate\` with --db ${path} to create it`,
      );
    }
  };
  return storeOf({
    kind: 'sqlite',
    name: path,
    async pendingMigrations() {
      if (main === undefined && !existsSync(path)) return MIGRATIONS;
      return pendingMigrations(database());
    },
    migrate: async () => migrate(database()),
    async createOutbox(options) {
      mustExist();
      return createSqliteOutbox(options.relay ? open('NORMAL') : database(), { source: options.source });
    },
    async createInbox() {
      mustExist();
      return createSqliteInbox(database()) as InboxStore<unknown>;
    },
    async close() {
      for (const db of opened) db.close();
    },
  });
}
