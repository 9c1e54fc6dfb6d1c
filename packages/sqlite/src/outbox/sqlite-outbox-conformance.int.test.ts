import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type OutboxWriter, runOutboxStoreConformance } from '@sluice/testing';
import { migrate } from '../migrations/migrate.js';
import { openDatabase, type SqliteDatabase } from '../open-database.js';
import { createSqliteOutbox, type SqliteOutbox } from './sqlite-outbox.js';

let dir: string | undefined;
const opened: SqliteDatabase[] = [];
/** The writer holding the database's one write transaction; the next `begin` waits for its end. */
let writing: Promise<void> = Promise.resolve();

/** A connection; a relay's never waits for the write lock (in one process, the writer holding it could not go on). */
function open(busyTimeoutMs = 10_000): SqliteDatabase {
  const db = openDatabase(join(dir!, 'app.db'), { busyTimeoutMs });
  opened.push(db);
  return db;
}

runOutboxStoreConformance<SqliteOutbox>('SqliteOutbox', {
  async setup() {
    dir = mkdtempSync(join(tmpdir(), 'sluice-outbox-conf-'));
    migrate(open());
    writing = Promise.resolve();
  },
  async teardown() {
    for (const db of opened.splice(0)) if (db.open) db.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  },
  open: async (source) => createSqliteOutbox(open(0), { source }),
  async writer(store): Promise<OutboxWriter> {
    const db = open();
    let release: (() => void) | undefined;
    const end = (sql: string) => {
      db.exec(sql);
      release?.();
      release = undefined;
    };
    return {
      async begin() {
        // One writer at a time, as SQLite runs them: wait for the previous writer's commit or rollback.
        const previous = writing;
        writing = new Promise<void>((resolve) => {
          release = resolve;
        });
        await previous;
        db.exec('BEGIN IMMEDIATE');
      },
      append: async (contract, data, context) => store.append(db, contract, data, context),
      commit: async () => end('COMMIT'),
      rollback: async () => end(db.inTransaction ? 'ROLLBACK' : 'SELECT 1'),
    };
  },
  overlappingWriters: false,
  isDeadlock: () => false,
  wakeWithinMs: 50,
});
