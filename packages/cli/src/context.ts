import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createStore,
  type EventContract,
  type OutboxStore,
  SluiceError,
  type Store,
  type StoreMigration,
  storeConfigOf,
} from '@sluice/core';
import { type OpenDatabaseOptions, openDatabase, type SqliteDatabase } from '@sluice/sqlite';
import { importModule } from './load-service-config.js';
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
export type MigrationStatement = StoreMigration;

/** The migrations of `--db` (SQLite file, PostgreSQL schema or MySQL database), opened for `sluice migrate`. */
export interface OpenedMigrations {
  /** What to call the database in messages: the file path, or the masked URL and where the tables live. */
  readonly name: string;
  /** The statements `apply()` would run; runs nothing (a SQLite file that does not exist stays so). */
  pending(): Promise<readonly MigrationStatement[]>;
  /** Applies the pending migrations; returns them. */
  apply(): Promise<readonly MigrationStatement[]>;
  /** Closes what was opened. Idempotent. */
  close(): Promise<void>;
}

/** Opens `--db` for migrating, through core's `createStore` (the same choice by URL a library user makes). */
export async function openMigrations(options: Resolved): Promise<OpenedMigrations> {
  const store = await openStore(options);
  return {
    name: store.name,
    pending: () => store.pendingMigrations(),
    apply: () => store.migrate(),
    close: () => store.close(),
  };
}

/** The outbox of `--db`, opened for one command. */
export interface OpenedOutbox {
  readonly store: OutboxStore;
  /** What to call the database in messages: the file path, or the masked URL and where the tables live. */
  readonly name: string;
  /** Closes the outbox and the connections opened for it. Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens the outbox in `--db`: a SQLite file, a PostgreSQL database (`postgres://`, Sluice's tables in
 * `--schema`) or a MySQL / MariaDB one (`mysql://`). Throws `SLUICE_MIGRATION_REQUIRED` when the tables are
 * missing.
 */
export async function openOutboxStore(
  options: Resolved,
  open: { source: string; relay?: boolean },
): Promise<OpenedOutbox> {
  const store = await openStore(options);
  try {
    const outbox = await store.createOutbox({ source: open.source, relay: open.relay === true });
    return { store: outbox, name: store.name, close: () => store.close() };
  } catch (error) {
    await store.close();
    throw error;
  }
}

async function openStore(options: Resolved): Promise<Store> {
  const db = stringOption(options, 'db');
  const kind = storeKindOf(db);
  const schema = kind === 'postgres' ? stringOption(options, 'schema') : undefined;
  return createStore(storeConfigOf(db, schema === undefined ? {} : { schema }));
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
    mod = await importModule(url);
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
