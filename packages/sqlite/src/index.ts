export { createSqliteInbox, SqliteInbox } from './inbox/sqlite-inbox.js';
export type { LogTransportOptions, ResolvedLogOptions } from './log/log-options.js';
export type { SweepResult } from './log/log-sweep.js';
export { createLogTransport, LogTransport } from './log/log-transport.js';
export {
  assertMigrated,
  LATEST_VERSION,
  MIGRATIONS,
  migrate,
  pendingMigrations,
  schemaVersion,
} from './migrations/migrate.js';
export type { Migration } from './migrations/migration.js';
export {
  configureDatabase,
  type OpenDatabaseOptions,
  openDatabase,
  type SqliteDatabase,
  type SqliteStatement,
} from './open-database.js';
export { type AppendResult, createSqliteOutbox, SqliteOutbox } from './outbox/sqlite-outbox.js';
export type { SqliteOutboxOptions } from './outbox/sqlite-outbox-options.js';
export { createSqliteStore } from './sqlite-store.js';
