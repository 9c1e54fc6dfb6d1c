export { BACKFILL_TABLE, WATERMARK_TABLE } from './cdc/backfill-tables.js';
export {
  type ChangeCaptureSetup,
  createChangeCapture,
  dropChangeCapture,
} from './cdc/change-capture-setup.js';
export { PostgresChangeSource, type PostgresChangeSourceOptions } from './cdc/postgres-change-source.js';
export { PostgresPolledTable, postgresPolledTable } from './cdc/postgres-polled-table.js';
export type { PostgresPolledTableOptions } from './cdc/postgres-polled-table-options.js';
export {
  PostgresSnapshotter,
  type PostgresSnapshotterOptions,
  postgresSnapshotter,
} from './cdc/postgres-snapshotter.js';
export { classifyPgError, connectionError, type PgErrorKind } from './errors.js';
export { createPostgresInbox, PostgresInbox } from './inbox/postgres-inbox.js';
export type { PostgresInboxOptions, ResolvedPostgresInboxOptions } from './inbox/postgres-inbox-options.js';
export {
  assertMigrated,
  DEFAULT_SCHEMA,
  LATEST_VERSION,
  MIGRATIONS,
  migrate,
  pendingMigrations,
  schemaVersion,
} from './migrations/migrate.js';
export type { Migration, MigrationStep } from './migrations/migration.js';
export { type AppendResult, createPostgresOutbox, PostgresOutbox } from './outbox/postgres-outbox.js';
export type {
  PostgresOutboxOptions,
  ResolvedPostgresOutboxOptions,
} from './outbox/postgres-outbox-options.js';
export {
  fromPg,
  type PgNotification,
  type PgPool,
  type PgPoolClient,
  type PgQueryable,
  type PgQueryResult,
  type SqlExecutor,
} from './pg-client.js';
