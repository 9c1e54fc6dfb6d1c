import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type EventContract, type OutboxStore, SluiceError } from '@sluice/core';
import { maskUrl } from '@sluice/core/adapter';
import {
  connectionError,
  createPostgresOutbox,
  fromPg,
  LATEST_VERSION,
  migrate as migratePostgres,
  pendingMigrations as pendingPostgresMigrations,
  schemaVersion,
} from '@sluice/postgres';
import {
  createSqliteOutbox,
  migrate as migrateSqlite,
  type OpenDatabaseOptions,
  openDatabase,
  pendingMigrations as pendingSqliteMigrations,
  MIGRATIONS as SQLITE_MIGRATIONS,
  type SqliteDatabase,
} from '@sluice/sqlite';
import pg from 'pg';
import { openMysqlMigrations, openMysqlOutbox } from './mysql-store.js';
import { type OptionSpec, type Resolved, UsageError } from './options.js';
import { storeKindOf } from './store-kind.js';

/** Options that name the stores, shared by several commands. */
export const DB_OPTION: OptionSpec = {
  name: 'db',
  type: 'string',
  description:
    "the application's database holding the outbox (or the consumer's, holding the inbox): a SQLite file, or for migrate, relay, status and audit a postgres:// or mysql:// URL",
  default: 'sluice-app.db',
};
export const SCHEMA_OPTION: OptionSpec = {
  name: 'schema',
  type: 'string',
  description:
    "the PostgreSQL schema holding Sluice's tables (postgres:// only; on MySQL / MariaDB they live in the URL's database)",
  default: 'sluice',
};
export const LOG_OPTION: OptionSpec = {
  name: 'log',
  type: 'string',
  description: 'the embedded log (the bus): a SQLite file shared by relay and consumers',
  default: 'sluice-bus.db',
};
export const CONTRACTS_OPTION: OptionSpec = {
  name: 'contracts',
  type: 'string',
  description:
    'module (path or package) exporting your event contracts; their topics are created on the transport',
};
export const JSON_OPTION: OptionSpec = {
  name: 'json',
  type: 'boolean',
  description: 'print JSON lines',
  default: false,
  env: '-',
};

export function stringOption(options: Resolved, name: string): string {
  const v = options[name];
  if (typeof v !== 'string' || v.length === 0) throw new UsageError(`--${name} is required`);
  return v;
}

/** Opens the `--db` file; with `mustExist`, a missing file is an error instead of a new empty database. */
export function openApp(
  options: Resolved,
  open: OpenDatabaseOptions & { mustExist?: boolean } = {},
): SqliteDatabase {
  const path = resolve(stringOption(options, 'db'));
  if (open.mustExist && !existsSync(path)) {
    throw new SluiceError(
      'SLUICE_MIGRATION_REQUIRED',
      `${path} does not exist: run \`sluice migrate\` with --db ${path} to create it`,
    );
  }
  return openDatabase(path, open);
}

/** Whether `--db` names a PostgreSQL database (`postgres://` or `postgresql://` URL) rather than a SQLite file. */
export function isPostgresUrl(db: string): boolean {
  return storeKindOf(db) === 'postgres';
}

/** A statement `sluice migrate` runs (or prints with --dry-run), for either kind of database. */
export interface MigrationStatement {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** The migrations of `--db`, SQLite file or PostgreSQL schema, opened for `sluice migrate`. */
export interface OpenedMigrations {
  /** What to call the database in messages: the file path, or the URL without credentials and the schema. */
  readonly name: string;
  /** The statements `apply()` would run; runs nothing. */
  pending(): Promise<readonly MigrationStatement[]>;
  /** Applies the pending migrations; returns them. */
  apply(): Promise<readonly MigrationStatement[]>;
  /** Closes what was opened (the SQLite connection, the pg pool). Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens `--db` for migrating. With `dryRun`, a SQLite file that does not exist is not created: every
 * migration is pending.
 */
export async function openMigrations(options: Resolved, dryRun = false): Promise<OpenedMigrations> {
  const db = stringOption(options, 'db');
  const kind = storeKindOf(db);
  if (kind === 'mysql') return openMysqlMigrations(db, undefined);
  if (kind === 'postgres') {
    const schema = stringOption(options, 'schema');
    const pool = openPool(db);
    const executor = fromPg(pool);
    return {
      name: postgresName(db, schema),
      pending: () => naming(db, pendingPostgresMigrations(executor, schema)),
      apply: () => naming(db, migratePostgres(executor, schema)),
      close: once(() => pool.end()),
    };
  }
  const path = resolve(db);
  if (dryRun && !existsSync(path)) {
    return {
      name: path,
      pending: async () => SQLITE_MIGRATIONS,
      apply: async () => {
        throw new Error('a dry run applies nothing');
      },
      close: async () => undefined,
    };
  }
  const sqlite = openApp(options);
  return {
    name: sqlite.name,
    pending: async () => pendingSqliteMigrations(sqlite),
    apply: async () => migrateSqlite(sqlite),
    close: once(async () => void sqlite.close()),
  };
}

/** The outbox of `--db`, SQLite file or PostgreSQL schema, opened for one command. */
export interface OpenedOutbox {
  readonly store: OutboxStore;
  /** What to call the database in messages: the file path, or the URL without credentials and the schema. */
  readonly name: string;
  /** Closes the store and what was opened for it (the SQLite connection, the pg pool). Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens the outbox in `--db`: a SQLite file, or a PostgreSQL database when `--db` is a `postgres://` URL (Sluice's
 * tables in `--schema`). Throws `SLUICE_MIGRATION_REQUIRED` when the tables are missing (for `relay` a SQLite
 * file that does not exist yet is created, then found unmigrated).
 */
export async function openOutboxStore(
  options: Resolved,
  open: { source: string; relay?: boolean },
): Promise<OpenedOutbox> {
  const db = stringOption(options, 'db');
  const kind = storeKindOf(db);
  if (kind === 'postgres') return openPostgresOutbox(db, stringOption(options, 'schema'), open.source);
  if (kind === 'mysql') return openMysqlOutbox(db, undefined, open.source);
  // The relay only deletes delivered rows and renews its lease on this connection: if a power cut undoes
  // such a write, the rows are sent again (consumers de-duplicate). So it need not wait for the disk, and
  // holds the application's write lock for microseconds instead of an fsync.
  const sqlite = open.relay
    ? openApp(options, { synchronous: 'NORMAL' })
    : openApp(options, { mustExist: true });
  try {
    const store = createSqliteOutbox(sqlite, { source: open.source });
    return {
      store,
      name: sqlite.name,
      close: once(async () => {
        await store.close();
        sqlite.close();
      }),
    };
  } catch (error) {
    sqlite.close();
    throw error;
  }
}

async function openPostgresOutbox(url: string, schema: string, source: string): Promise<OpenedOutbox> {
  const name = postgresName(url, schema);
  const pool = openPool(url);
  try {
    const version = await schemaVersion(fromPg(pool), schema);
    if (version < LATEST_VERSION) {
      throw new SluiceError(
        'SLUICE_MIGRATION_REQUIRED',
        `${name} ${version === 0 ? 'has no Sluice tables' : `is at schema version ${version}, this Sluice needs ${LATEST_VERSION}`}: run \`sluice migrate\` with the same --db and --schema`,
      );
    }
    const store = await createPostgresOutbox(pool, { source, schema });
    return {
      store,
      name,
      close: once(async () => {
        await store.close();
        await pool.end();
      }),
    };
  } catch (error) {
    await pool.end();
    throw connectionError(error, maskUrl(url)) ?? error;
  }
}

/** Reports a failed connection to PostgreSQL as one to `url` (its password masked), not as what was being done. */
async function naming<T>(url: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw connectionError(error, maskUrl(url)) ?? error;
  }
}

/** A small pool for one CLI command; errors of idle connections are reported, not thrown. */
function openPool(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 10_000 });
  pool.on('error', (error) => {
    process.stderr.write(`sluice: a PostgreSQL connection failed: ${error.message}\n`);
  });
  return pool;
}

/** The URL without password and query (which may hold credentials), and the schema: for messages. */
function postgresName(url: string, schema: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    u.search = '';
    return `${u.href} schema ${schema}`;
  } catch {
    return `PostgreSQL schema ${schema}`;
  }
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => {
    done ??= fn();
    return done;
  };
}

/** Imports a module and collects every event contract it exports (also inside exported arrays). */
export async function loadContracts(specifier: string | undefined): Promise<EventContract[]> {
  if (!specifier) return [];
  const url =
    specifier.startsWith('.') || specifier.startsWith('/')
      ? pathToFileURL(resolve(specifier)).href
      : specifier;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (cause) {
    throw new UsageError(`could not import contracts module ${specifier}: ${String(cause)}`);
  }
  const found = new Set<EventContract>();
  const visit = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object' && (v as { kind?: unknown }).kind === 'sluice.event')
      found.add(v as EventContract);
  };
  Object.values(mod).forEach(visit);
  if (found.size === 0)
    throw new UsageError(`module ${specifier} exports no event contracts (defineEvent(...))`);
  return [...found];
}
