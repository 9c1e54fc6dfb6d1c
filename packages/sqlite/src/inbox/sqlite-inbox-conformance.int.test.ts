import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInboxStoreConformance } from '@sluice/testing';
import { openDatabase, type SqliteDatabase } from '../open-database.js';
import { createSqliteInbox } from './sqlite-inbox.js';

runInboxStoreConformance<SqliteDatabase>('SqliteInbox', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-inbox-conf-'));
  const file = join(dir, 'consumer.db');
  let consumer: SqliteDatabase;
  let reader: SqliteDatabase;
  const others: SqliteDatabase[] = [];
  return {
    async open() {
      consumer = openDatabase(file);
      const inbox = createSqliteInbox(consumer, { migrate: true });
      consumer.exec('CREATE TABLE effect (name TEXT PRIMARY KEY)');
      reader = openDatabase(file);
      return inbox;
    },
    async another() {
      const db = openDatabase(file);
      others.push(db);
      return createSqliteInbox(db);
    },
    write: (tx, effect) => tx.prepare('INSERT INTO effect (name) VALUES (?)').run(effect),
    // Another connection: it sees only what committed.
    effects: async () => reader.prepare('SELECT name FROM effect').pluck().all() as string[],
    concurrentTransactions: false,
    async close() {
      for (const db of others) db.close();
      consumer.close();
      reader.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
