// @sluice/mysql: the outbox and inbox, their migrations and the transaction adapter. Change data capture,
// polling and backfills are in `@sluice/mysql/cdc`, so an application that only appends never loads a
// replication client.

export { classifyMysqlError, connectionError, type MysqlErrorKind } from './errors.js';
export { createMysqlInbox, MysqlInbox } from './inbox/mysql-inbox.js';
export type { MysqlInboxOptions, ResolvedMysqlInboxOptions } from './inbox/mysql-inbox-options.js';
export {
  assertMigrated,
  type DatabaseOption,
  LATEST_VERSION,
  MIGRATIONS,
  migrate,
  pendingMigrations,
  resolveDatabase,
  schemaVersion,
} from './migrations/migrate.js';
export type { Migration, MigrationStep } from './migrations/migration.js';
export {
  fromMysql,
  type MysqlPool,
  type MysqlPoolConnection,
  type MysqlQueryable,
  type MysqlWriteResult,
  type SqlExecutor,
} from './mysql-client.js';
export { createMysqlStore } from './mysql-store.js';
export { type AppendResult, createMysqlOutbox, MysqlOutbox } from './outbox/mysql-outbox.js';
export type { MysqlOutboxOptions, ResolvedMysqlOutboxOptions } from './outbox/mysql-outbox-options.js';
