import { type InboxStore, SluiceError } from '@sluice/core';
import type { Statement } from 'better-sqlite3';
import { assertMigrated, migrate } from '../migrations/migrate.js';
import type { SqliteDatabase } from '../open-database.js';

/**
 * The consumer inbox in a SQLite database. Give the consumer its own connection: while a handler awaits, its
 * transaction is open on that connection, and other code using it would write inside that transaction.
 */
export class SqliteInbox implements InboxStore<SqliteDatabase> {
  readonly name: string;
  readonly #db: SqliteDatabase;
  readonly #seen: Statement<unknown[]>;
  readonly #record: Statement<unknown[]>;

  constructor(db: SqliteDatabase, options: { migrate?: boolean } = {}) {
    this.#db = db;
    this.name = `sqlite:${db.name}`;
    if (options.migrate) migrate(db);
    else assertMigrated(db, 'inbox table sluice_inbox');
    this.#seen = db.prepare('SELECT 1 FROM sluice_inbox WHERE consumer_group = ? AND event_id = ?').pluck();
    this.#record = db.prepare(
      'INSERT INTO sluice_inbox (consumer_group, event_id, applied_at) VALUES (?, ?, ?)',
    );
  }

  async runOnce(
    group: string,
    eventId: string,
    apply: (tx: SqliteDatabase) => unknown,
  ): Promise<'applied' | 'duplicate'> {
    const db = this.#db;
    if (db.inTransaction) {
      throw new SluiceError(
        'SLUICE_INBOX_BUSY',
        `the consumer's connection to ${db.name} is already inside a transaction; give the consumer a connection of its own`,
      );
    }
    db.exec('BEGIN IMMEDIATE');
    try {
      if (this.#seen.get(group, eventId) !== undefined) {
        db.exec('ROLLBACK');
        return 'duplicate';
      }
      const result = apply(db);
      if (result instanceof Promise) await result;
      this.#record.run(group, eventId, Date.now());
      db.exec('COMMIT');
      return 'applied';
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw error;
    }
  }

  async close(): Promise<void> {
    // The connection belongs to the caller.
  }
}

export function createSqliteInbox(db: SqliteDatabase, options: { migrate?: boolean } = {}): SqliteInbox {
  return new SqliteInbox(db, options);
}
