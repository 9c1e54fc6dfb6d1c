import { InvalidOptionError, MigrationRequiredError, SluiceError } from '@sluice/core';
import { connectionError, isMissingRelation, toSluiceError } from '../errors.js';
import { checkIdentifier, quoteIdentifier } from '../identifier.js';
import { type MysqlPool, type MysqlQueryable, queryRows } from '../mysql-client.js';
import { createOutbox } from './001-create-outbox.js';
import { createOutboxSequence } from './002-create-outbox-sequence.js';
import { createOutboxDelivered } from './003-create-outbox-delivered.js';
import { createInbox } from './004-create-inbox.js';
import { createRelayPartition } from './005-create-relay-partition.js';
import { seedRelayPartition } from './006-seed-relay-partition.js';
import { createRelayMember } from './007-create-relay-member.js';
import { createInboxChain } from './008-create-inbox-chain.js';
import { createInboxGroup } from './009-create-inbox-group.js';
import { createDatabase } from './create-database.js';
import { createHistory } from './create-history.js';
import type { Migration, MigrationStep } from './migration.js';

/** Every migration, in version order. */
export const MIGRATIONS: readonly Migration[] = [
  createOutbox,
  createOutboxSequence,
  createOutboxDelivered,
  createInbox,
  createRelayPartition,
  seedRelayPartition,
  createRelayMember,
  createInboxChain,
  createInboxGroup,
];
/** The schema version this Sluice needs: the last migration's. */
export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Where Sluice's tables are: `database`, or the connection's current database when omitted. */
export interface DatabaseOption {
  readonly database?: string;
}

/** How long `migrate` waits for another process's migration (`GET_LOCK`), in seconds. */
const LOCK_TIMEOUT_S = 60;

/**
 * The database Sluice's tables live in: `database` if given (checked), else the pool's current database
 * (`DATABASE()`). Throws `InvalidOptionError` naming `database` when neither is set.
 */
export async function resolveDatabase(
  db: MysqlQueryable,
  database: string | undefined,
  component: string,
): Promise<string> {
  if (database !== undefined) return checkIdentifier(component, 'database', database);
  let rows: { db: string | null }[];
  try {
    rows = await queryRows<{ db: string | null }>(db, 'SELECT DATABASE() AS db');
  } catch (error) {
    throw toSluiceError(error, 'reading the current database', 'the current database is missing');
  }
  const current = rows[0]?.db;
  if (!current) {
    throw new InvalidOptionError(
      component,
      'database',
      'is not set and the connection has no current database: pass `database`, or a `database` in the pool config',
    );
  }
  return checkIdentifier(component, 'database', current);
}

/** The schema version of Sluice's tables in `database` (0 when the database or its history is missing). */
export async function schemaVersion(db: MysqlQueryable, database: string): Promise<number> {
  const d = quoteIdentifier(checkIdentifier('schemaVersion', 'database', database));
  try {
    const rows = await queryRows<{ v: number | string | null }>(
      db,
      `SELECT COALESCE(MAX(version), 0) AS v FROM ${d}.sluice_migrations`,
    );
    return Number(rows[0]?.v ?? 0);
  } catch (error) {
    if (isMissingRelation(error)) return 0;
    throw toSluiceError(
      error,
      `reading the schema version of ${database}`,
      `database ${database} is missing`,
    );
  }
}

function bootstrap(explicit: boolean): readonly Migration[] {
  return explicit ? [createDatabase, createHistory] : [createHistory];
}

/**
 * The statements `migrate` would run, rendered for the database, for `sluice migrate --dry-run`: the database
 * (when named by `database`) and the history table when missing (version 0), then every migration above the
 * current version. Runs nothing.
 */
export async function pendingMigrations(
  pool: MysqlQueryable,
  options: DatabaseOption = {},
): Promise<readonly MigrationStep[]> {
  const database = await resolveDatabase(pool, options.database, 'pendingMigrations');
  const d = quoteIdentifier(database);
  let history: boolean;
  try {
    const rows = await queryRows<{ n: number | string }>(
      pool,
      `SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = ? AND table_name = 'sluice_migrations'`,
      [database],
    );
    history = Number(rows[0]?.n ?? 0) > 0;
  } catch (error) {
    throw toSluiceError(error, `reading the migrations of ${database}`, `database ${database} is missing`);
  }
  const current = history ? await schemaVersion(pool, database) : 0;
  return [
    ...(history ? [] : bootstrap(options.database !== undefined)),
    ...MIGRATIONS.filter((m) => m.version > current),
  ].map((m) => render(m, d));
}

/**
 * Creates the database (when named by `database`) and applies pending migrations one at a time, each recorded
 * in `sluice_migrations`. Safe to run concurrently from several processes: they serialize on a named lock
 * (`GET_LOCK`, held on one connection of the pool for the whole run) and each re-reads the history under it.
 * Returns the migrations that were pending and are now applied.
 */
export async function migrate(
  pool: MysqlPool,
  options: DatabaseOption = {},
): Promise<readonly MigrationStep[]> {
  const database = await resolveDatabase(pool, options.database, 'migrate');
  const d = quoteIdentifier(database);
  const lockName = `sluice_migrate:${database}`.slice(0, 64);
  let conn: Awaited<ReturnType<MysqlPool['getConnection']>>;
  try {
    conn = await pool.getConnection();
  } catch (error) {
    throw toSluiceError(error, `connecting to migrate ${database}`, `database ${database} is missing`);
  }
  let locked = false;
  try {
    const got = await queryRows<{ got: number | null }>(conn, 'SELECT GET_LOCK(?, ?) AS got', [
      lockName,
      LOCK_TIMEOUT_S,
    ]).catch((error: unknown) => {
      throw toSluiceError(error, `locking the migrations of ${database}`, `database ${database} is missing`);
    });
    if (Number(got[0]?.got) !== 1) {
      throw new SluiceError(
        'SLUICE_MIGRATION_LOCKED',
        `another process has been migrating database ${database} for more than ${LOCK_TIMEOUT_S}s (lock ${lockName}); wait for it to finish, or look for a stuck \`sluice migrate\``,
      );
    }
    locked = true;
    const run = async (step: MigrationStep) => {
      try {
        await conn.query(step.sql);
        if (step.version > 0) {
          await conn.query(`INSERT IGNORE INTO ${d}.sluice_migrations (version, name) VALUES (?, ?)`, [
            step.version,
            step.name,
          ]);
          await conn.query('COMMIT'); // a no-op under autocommit; commits the record on an autocommit=0 pool
        }
      } catch (cause) {
        // A lost connection or refused credentials are not a failed migration: say so.
        const connection = connectionError(cause, 'MySQL');
        if (connection) throw connection;
        throw new SluiceError(
          'SLUICE_MIGRATION_FAILED',
          `migration ${step.version} (${step.name}) of database ${database} failed: ${String(cause)}. Fix the cause and run \`sluice migrate\` again (every step can be repeated safely)`,
          { cause },
        );
      }
    };
    for (const m of bootstrap(options.database !== undefined)) await run(render(m, d));
    const current = await schemaVersion(conn, database);
    const applied: MigrationStep[] = [];
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      const step = render(m, d);
      await run(step);
      applied.push(step);
    }
    return applied;
  } finally {
    if (locked) await conn.query('SELECT RELEASE_LOCK(?)', [lockName]).catch(() => undefined);
    conn.release();
  }
}

/**
 * Throws `MigrationRequiredError` unless Sluice's tables in `database` are at the latest version; `what` names
 * what the caller needs, e.g. `outbox table app.sluice_outbox`.
 */
export async function assertMigrated(db: MysqlQueryable, database: string, what: string): Promise<void> {
  const version = await schemaVersion(db, database);
  if (version < LATEST_VERSION) {
    throw new MigrationRequiredError(
      version === 0
        ? `${what} is missing`
        : `${what} is at schema version ${version}, this Sluice needs ${LATEST_VERSION}`,
    );
  }
  if (version > LATEST_VERSION) {
    throw new SluiceError(
      'SLUICE_SCHEMA_TOO_NEW',
      `Sluice tables in database ${database} are at version ${version}, newer than this Sluice (${LATEST_VERSION}); upgrade @sluice/mysql`,
    );
  }
}

function render(m: Migration, quotedDatabase: string): MigrationStep {
  return { version: m.version, name: m.name, sql: m.sql(quotedDatabase) };
}
