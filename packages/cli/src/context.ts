import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type EventContract, SluiceError, type Transport } from '@sluice/core';
import {
  createLogTransport,
  type OpenDatabaseOptions,
  openDatabase,
  type SqliteDatabase,
} from '@sluice/sqlite';
import { type OptionSpec, type Resolved, UsageError } from './options.js';

/** Options that name the stores, shared by several commands. */
export const DB_OPTION: OptionSpec = {
  name: 'db',
  type: 'string',
  description: "the application's SQLite file holding the outbox (or the consumer's, holding the inbox)",
  default: 'sluice-app.db',
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

export function openLog(options: Resolved): Transport {
  return createLogTransport({ path: resolve(stringOption(options, 'log')) });
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
