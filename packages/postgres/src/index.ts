// @sluice/postgres: the outbox and inbox, their migrations and the transaction adapter. Change data capture,
// polling and backfills are in `@sluice/postgres/cdc`, so an application that only appends never loads a
// replication client.

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
export { createPostgresStore } from './postgres-store.js';
