import type { InboxStore, Store, StoreConfig } from '@sluice/core';
import { SluiceError } from '@sluice/core';
import { maskUrl, storeOf } from '@sluice/core/adapter';
import type pg from 'pg';
import { connectionError } from './errors.js';
import { createPostgresInbox } from './inbox/postgres-inbox.js';
import {
  DEFAULT_SCHEMA,
  LATEST_VERSION,
  migrate,
  pendingMigrations,
  schemaVersion,
} from './migrations/migrate.js';
import { createPostgresOutbox } from './outbox/postgres-outbox.js';
import { fromPg } from './pg-client.js';

/**
 * The PostgreSQL database a {@link StoreConfig} names, as a {@link Store} (what
 * `createStore('postgres://…')` opens): one small `pg` pool (the application's driver, imported here), Sluice's
 * tables in `schema` (default `sluice`). Every failed connection is reported as one to the URL, its password
 * masked.
 */
export async function createPostgresStore(config: StoreConfig & { kind: 'postgres' }): Promise<Store> {
  let driver: typeof pg;
  try {
    driver = (await import('pg')).default;
  } catch (cause) {
    throw new SluiceError(
      'SLUICE_ADAPTER_MISSING',
      'a PostgreSQL database needs the pg driver: npm install pg',
      {
        cause,
      },
    );
  }
  const schema = config.schema ?? DEFAULT_SCHEMA;
  const masked = maskUrl(config.url);
  const name = `${masked} schema ${schema}`;
  const pool = new driver.Pool({ connectionString: config.url, max: 4, connectionTimeoutMillis: 10_000 });
  // An idle connection the server closed: the next query opens another one.
  pool.on('error', () => undefined);
  const executor = fromPg(pool);
  const assertMigrated = async () => {
    const version = await schemaVersion(executor, schema);
    if (version < LATEST_VERSION) {
      throw new SluiceError(
        'SLUICE_MIGRATION_REQUIRED',
        `${name} ${version === 0 ? 'has no Sluice tables' : `is at schema version ${version}, this Sluice needs ${LATEST_VERSION}`}: run \`sluice migrate\` with the same --db and --schema`,
      );
    }
  };
  return storeOf({
    kind: 'postgres',
    name,
    connectionError: (error) => connectionError(error, masked),
    pendingMigrations: () => pendingMigrations(executor, schema),
    migrate: () => migrate(executor, schema),
    async createOutbox(options) {
      await assertMigrated();
      return createPostgresOutbox(pool, { source: options.source, schema });
    },
    async createInbox() {
      await assertMigrated();
      return (await createPostgresInbox(pool, { schema })) as InboxStore<unknown>;
    },
    close: () => pool.end(),
  });
}
