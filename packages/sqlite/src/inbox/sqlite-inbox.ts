import { type InboxStore, SluiceError } from '@sluice/core';
import type { ChainCheck } from '@sluice/core/adapter';
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
  readonly #chainLast: Statement<unknown[]>;
  readonly #chainStore: Statement<unknown[]>;
  readonly #groupStarted: Statement<unknown[]>;
  readonly #groupHasRows: Statement<unknown[]>;
  readonly #groupStart: Statement<unknown[]>;

  constructor(db: SqliteDatabase, options: { migrate?: boolean } = {}) {
    this.#db = db;
    this.name = `sqlite:${db.name}`;
    if (options.migrate) migrate(db);
    else assertMigrated(db, 'inbox table sluice_inbox');
    this.#seen = db.prepare('SELECT 1 FROM sluice_inbox WHERE consumer_group = ? AND event_id = ?').pluck();
    this.#record = db.prepare(
      'INSERT INTO sluice_inbox (consumer_group, event_id, applied_at) VALUES (?, ?, ?)',
    );
    this.#chainLast = db
      .prepare(
        'SELECT last_sequence FROM sluice_inbox_chain WHERE consumer_group = ? AND source = ? AND topic = ? AND key = ?',
      )
      .pluck();
    this.#chainStore =
      db.prepare(`INSERT INTO sluice_inbox_chain (consumer_group, source, topic, key, last_sequence, updated_at)
VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (consumer_group, source, topic, key)
DO UPDATE SET last_sequence = excluded.last_sequence, updated_at = excluded.updated_at`);
    this.#groupStarted = db
      .prepare('SELECT from_start FROM sluice_inbox_group WHERE consumer_group = ?')
      .pluck();
    this.#groupHasRows = db
      .prepare(`SELECT EXISTS (SELECT 1 FROM sluice_inbox WHERE consumer_group = ?)
  OR EXISTS (SELECT 1 FROM sluice_inbox_chain WHERE consumer_group = ?)`)
      .pluck();
    this.#groupStart = db.prepare(
      'INSERT INTO sluice_inbox_group (consumer_group, from_start, started_at) VALUES (?, ?, ?)',
    );
  }

  async runOnce(
    group: string,
    eventId: string,
    apply: (tx: SqliteDatabase) => unknown,
    chain?: ChainCheck,
  ): Promise<'applied' | 'duplicate' | 'refused'> {
    const db = this.#db;
    this.#assertOwnConnection();
    db.exec('BEGIN IMMEDIATE');
    try {
      if (this.#seen.get(group, eventId) !== undefined) {
        db.exec('ROLLBACK');
        return 'duplicate';
      }
      let next: number | undefined;
      if (chain) {
        const last = this.#chainLast.get(group, chain.source, chain.topic, chain.key) as number | undefined;
        next = chain.check(last);
        if (next === undefined) {
          db.exec('ROLLBACK');
          return 'refused';
        }
      }
      const result = apply(db);
      if (result instanceof Promise) await result;
      const now = Date.now();
      this.#record.run(group, eventId, now);
      if (chain) this.#chainStore.run(group, chain.source, chain.topic, chain.key, next, now);
      db.exec('COMMIT');
      return 'applied';
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw error;
    }
  }

  /** Checks and stores the chain of an event the consumer settles without applying it, in one transaction. */
  async passChain(group: string, chain: ChainCheck): Promise<'passed' | 'refused'> {
    const db = this.#db;
    this.#assertOwnConnection();
    db.exec('BEGIN IMMEDIATE');
    try {
      const next = chain.check(
        this.#chainLast.get(group, chain.source, chain.topic, chain.key) as number | undefined,
      );
      if (next !== undefined)
        this.#chainStore.run(group, chain.source, chain.topic, chain.key, next, Date.now());
      db.exec('COMMIT');
      return next === undefined ? 'refused' : 'passed';
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw error;
    }
  }

  /**
   * Records, once, whether `group`'s chains are tracked from their first event: `fromStart` if the inbox holds
   * nothing for the group yet, else false; later calls resolve what was recorded.
   */
  async startGroup(group: string, fromStart: boolean): Promise<boolean> {
    const db = this.#db;
    this.#assertOwnConnection();
    db.exec('BEGIN IMMEDIATE');
    try {
      const recorded = this.#groupStarted.get(group) as number | undefined;
      let result = recorded === 1;
      if (recorded === undefined) {
        result = fromStart && this.#groupHasRows.get(group, group) === 0;
        this.#groupStart.run(group, result ? 1 : 0, Date.now());
      }
      db.exec('COMMIT');
      return result;
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw error;
    }
  }

  async close(): Promise<void> {
    // The connection belongs to the caller.
  }

  #assertOwnConnection(): void {
    if (this.#db.inTransaction) {
      throw new SluiceError(
        'SLUICE_CONNECTION_IN_TRANSACTION',
        `the consumer's connection to ${this.#db.name} is already inside a transaction; give the consumer a connection of its own`,
      );
    }
  }
}

export function createSqliteInbox(db: SqliteDatabase, options: { migrate?: boolean } = {}): SqliteInbox {
  return new SqliteInbox(db, options);
}
