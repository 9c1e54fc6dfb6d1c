import Database from 'better-sqlite3';

/** A better-sqlite3 connection. */
export type SqliteDatabase = Database.Database;
/** A prepared better-sqlite3 statement. */
export type SqliteStatement = Database.Statement<unknown[]>;

export interface OpenDatabaseOptions {
  /**
   * `FULL` (default) makes every commit durable before it returns, which is what an outbox, an inbox and a log
   * promise. `NORMAL` in WAL mode survives a process crash but can lose the last commits on power loss.
   */
  readonly synchronous?: 'FULL' | 'NORMAL';
  /** How long a writer waits for another process's write lock. Default 10000 ms. */
  readonly busyTimeoutMs?: number;
}

/**
 * Opens a SQLite file the way Sluice expects: WAL journal (readers never block the writer), durable commits,
 * and a busy timeout so several processes (application, relay, consumers) can share the file.
 */
export function openDatabase(path: string, options: OpenDatabaseOptions = {}): SqliteDatabase {
  const db = new Database(path);
  configureDatabase(db, options);
  return db;
}

/** Applies Sluice's connection settings to a connection the caller opened. */
export function configureDatabase(db: SqliteDatabase, options: OpenDatabaseOptions = {}): void {
  db.pragma(`busy_timeout = ${Math.floor(options.busyTimeoutMs ?? 10_000)}`);
  if (db.name !== ':memory:' && db.name !== '') db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
}
