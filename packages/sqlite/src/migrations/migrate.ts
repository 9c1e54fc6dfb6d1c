import { MigrationRequiredError, SluiceError } from '@sluice/core';
import type { SqliteDatabase } from '../open-database.js';
import { createOutbox } from './001-create-outbox.js';
import { createOutboxSequence } from './002-create-outbox-sequence.js';
import { createRelayLease } from './003-create-relay-lease.js';
import { createInbox } from './004-create-inbox.js';
import { indexOutboxDelivered } from './005-index-outbox-delivered.js';
import { createInboxChain } from './006-create-inbox-chain.js';
import { createInboxGroup } from './007-create-inbox-group.js';
import type { Migration } from './migration.js';

/** Every migration, in version order. */
export const MIGRATIONS: readonly Migration[] = [
  createOutbox,
  createOutboxSequence,
  createRelayLease,
  createInbox,
  indexOutboxDelivered,
  createInboxChain,
  createInboxGroup,
];
export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

const HISTORY = `CREATE TABLE IF NOT EXISTS sluice_migrations (
  version    INTEGER PRIMARY KEY,
  name       TEXT    NOT NULL,
  applied_at TEXT    NOT NULL
)`;

/** The schema version of Sluice's tables in `db` (0 when none). */
export function schemaVersion(db: SqliteDatabase): number {
  const exists = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sluice_migrations'")
    .get();
  if (!exists) return 0;
  const row = db.prepare('SELECT max(version) AS v FROM sluice_migrations').get() as { v: number | null };
  return row.v ?? 0;
}

/** The migrations `migrate` would apply, for `--dry-run`. */
export function pendingMigrations(db: SqliteDatabase): readonly Migration[] {
  const current = schemaVersion(db);
  return MIGRATIONS.filter((m) => m.version > current);
}

/**
 * Applies pending migrations, each in its own transaction with its history row. Safe to run concurrently from
 * several processes: `BEGIN IMMEDIATE` serialises them and each re-checks the version.
 */
export function migrate(db: SqliteDatabase): readonly Migration[] {
  const applied: Migration[] = [];
  db.exec(HISTORY);
  for (const m of MIGRATIONS) {
    db.exec('BEGIN IMMEDIATE');
    try {
      if (schemaVersion(db) >= m.version) {
        db.exec('COMMIT');
        continue;
      }
      db.exec(m.sql);
      db.prepare('INSERT INTO sluice_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        new Date().toISOString(),
      );
      db.exec('COMMIT');
      applied.push(m);
    } catch (cause) {
      db.exec('ROLLBACK');
      throw new SluiceError(
        'SLUICE_MIGRATION_FAILED',
        `migration ${m.version} (${m.name}) failed: ${String(cause)}`,
        { cause },
      );
    }
  }
  return applied;
}

/** Throws `MigrationRequiredError` unless Sluice's tables are at the latest version. */
export function assertMigrated(db: SqliteDatabase, what: string): void {
  const version = schemaVersion(db);
  if (version < LATEST_VERSION) {
    throw new MigrationRequiredError(
      `${what} in ${db.name} ${version === 0 ? 'is missing' : `is at schema version ${version}, this Sluice needs ${LATEST_VERSION}`}`,
    );
  }
  if (version > LATEST_VERSION) {
    throw new SluiceError(
      'SLUICE_SCHEMA_TOO_NEW',
      `Sluice tables in ${db.name} are at schema version ${version}, newer than this Sluice (${LATEST_VERSION}); upgrade @sluice/sqlite`,
    );
  }
}
