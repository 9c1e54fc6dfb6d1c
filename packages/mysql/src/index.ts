export {
  BACKFILL_TABLE,
  createMysqlBackfillTables,
  WATERMARK_TABLE,
} from './cdc/mysql-backfill-tables.js';
export { MysqlChangeSource } from './cdc/mysql-change-source.js';
export type { MysqlChangeSourceOptions } from './cdc/mysql-change-source-options.js';
export { MysqlPolledTable, mysqlPolledTable } from './cdc/mysql-polled-table.js';
export type { MysqlPolledTableOptions } from './cdc/mysql-polled-table-options.js';
export { MysqlPositionStore, type MysqlPositionStoreOptions } from './cdc/mysql-position-store.js';
export { MysqlSnapshotter, type MysqlSnapshotterOptions, mysqlSnapshotter } from './cdc/mysql-snapshotter.js';
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
export { type AppendResult, createMysqlOutbox, MysqlOutbox } from './outbox/mysql-outbox.js';
export type { MysqlOutboxOptions, ResolvedMysqlOutboxOptions } from './outbox/mysql-outbox-options.js';
