import { InvalidOptionError, SluiceError } from '../errors.js';
import type { Store } from './store.js';
import { type StoreConfig, storeConfigOf } from './store-config.js';

/** Every database adapter's package and factory, loaded only when asked for (core depends on none of them). */
const ADAPTERS = {
  sqlite: { module: '@sluice/sqlite', factory: 'createSqliteStore' },
  postgres: { module: '@sluice/postgres', factory: 'createPostgresStore' },
  mysql: { module: '@sluice/mysql', factory: 'createMysqlStore' },
} as const;

/**
 * Opens the database a {@link StoreConfig} (or a URL) names: the one place where a database is chosen by
 * configuration, as {@link createTransport} is for the bus. The adapter's package is imported on demand (its
 * driver is the application's), so a missing one is a `SLUICE_ADAPTER_MISSING` error naming what to install.
 *
 * A string is read by {@link storeConfigOf}: `postgres://…`, `mysql://…` (or `mariadb://…`), or the path of a
 * SQLite file.
 *
 * ```ts
 * const store = await createStore(process.env.DATABASE_URL ?? 'app.db');
 * await store.migrate();
 * const outbox = await store.createOutbox({ source: 'urn:service:enrollments', relay: true });
 * ```
 */
export async function createStore(config: StoreConfig | string): Promise<Store> {
  const resolved = typeof config === 'string' ? storeConfigOf(config) : config;
  const adapter = ADAPTERS[resolved.kind];
  if (adapter === undefined) {
    throw new InvalidOptionError(
      'createStore',
      'kind',
      `must be sqlite, postgres or mysql, got ${JSON.stringify((resolved as { kind: unknown }).kind)}`,
    );
  }
  let factory: unknown;
  try {
    factory = ((await import(adapter.module)) as Record<string, unknown>)[adapter.factory];
  } catch (cause) {
    throw missing(adapter.module, cause);
  }
  if (typeof factory !== 'function') throw missing(adapter.module);
  return (factory as (c: StoreConfig) => Store | Promise<Store>)(resolved);
}

function missing(module: string, cause?: unknown): SluiceError {
  return new SluiceError(
    'SLUICE_ADAPTER_MISSING',
    `this database needs the ${module} package (and its driver), which is not installed or does not provide a store in this version: npm install ${module}`,
    { cause },
  );
}
