import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { EventContract, Transport } from '@sluice/core';
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

export function openApp(options: Resolved, open: OpenDatabaseOptions = {}): SqliteDatabase {
  return openDatabase(resolve(stringOption(options, 'db')), open);
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
