import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInboxChainConformance } from '@sluice/testing';
import { openDatabase, type SqliteDatabase } from '../open-database.js';
import { createSqliteInbox } from './sqlite-inbox.js';

runInboxChainConformance<SqliteDatabase>('SqliteInbox', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-inbox-chain-'));
  const file = join(dir, 'consumer.db');
  let consumer: SqliteDatabase;
  let reader: SqliteDatabase;
  return {
    async open() {
      consumer = openDatabase(file);
      const inbox = createSqliteInbox(consumer, { migrate: true });
      consumer.exec('CREATE TABLE effect (name TEXT PRIMARY KEY)');
      reader = openDatabase(file);
      return inbox;
    },
    write: (tx, effect) => tx.prepare('INSERT INTO effect (name) VALUES (?)').run(effect),
    // Another connection: it sees only what committed.
    effects: async () => reader.prepare('SELECT name FROM effect').pluck().all() as string[],
    async close() {
      consumer.close();
      reader.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
