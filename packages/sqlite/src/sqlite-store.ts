import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { InboxStore, OutboxStore, Store, StoreConfig, StoreMigration } from '@sluice/core';
import { SluiceError } from '@sluice/core';
import { createSqliteInbox } from './inbox/sqlite-inbox.js';
import { MIGRATIONS, migrate, pendingMigrations } from './migrations/migrate.js';
import { openDatabase, type SqliteDatabase } from './open-database.js';
import { createSqliteOutbox } from './outbox/sqlite-outbox.js';

/**
 * The SQLite file a {@link StoreConfig} names, as a {@link Store} (what `createStore('app.db')` opens). The
 * file is opened on first use; `pendingMigrations()` on a file that does not exist lists every migration and
 * creates nothing, `createOutbox` refuses it (run `migrate()` first). A relay's outbox gets its own connection
 * with `synchronous = NORMAL`: it only deletes delivered rows and renews its lease, and if a power cut undoes
 * such a write the rows are sent again (consumers de-duplicate), so it need not hold the write lock for an fsync.
 */
export function createSqliteStore(config: StoreConfig & { kind: 'sqlite' }): Store {
  const path = resolve(config.path);
  const opened: SqliteDatabase[] = [];
  const outboxes: (OutboxStore | InboxStore<unknown>)[] = [];
  let main: SqliteDatabase | undefined;
  let closed: Promise<void> | undefined;
  const open = (synchronous?: 'NORMAL') => {
    const db = openDatabase(path, synchronous === undefined ? {} : { synchronous });
    opened.push(db);
    return db;
  };
  const database = () => {
    main ??= open();
    return main;
  };
  const steps = (list: readonly { version: number; name: string; sql: string }[]): StoreMigration[] =>
    list.map((m) => ({ version: m.version, name: m.name, sql: m.sql }));
  return {
    kind: 'sqlite',
    name: path,
    async pendingMigrations() {
      if (main === undefined && !existsSync(path)) return steps(MIGRATIONS);
      return steps(pendingMigrations(database()));
    },
    async migrate() {
      return steps(migrate(database()));
    },
    async createOutbox(options) {
      if (!existsSync(path)) {
        throw new SluiceError(
          'SLUICE_MIGRATION_REQUIRED',
          `${path} does not exist: run \`sluice migrate\` with --db ${path} to create it`,
        );
      }
      const db = options.relay ? open('NORMAL') : database();
      const outbox = createSqliteOutbox(db, { source: options.source });
      outboxes.push(outbox);
      return outbox;
    },
    async createInbox() {
      if (!existsSync(path)) {
        throw new SluiceError(
          'SLUICE_MIGRATION_REQUIRED',
          `${path} does not exist: run \`sluice migrate\` with --db ${path} to create it`,
        );
      }
      const inbox = createSqliteInbox(database());
      outboxes.push(inbox);
      return inbox as InboxStore<unknown>;
    },
    close() {
      closed ??= (async () => {
        for (const o of outboxes) await o.close();
        for (const db of opened) db.close();
      })();
      return closed;
    },
  };
}
