import type { InboxStore, OutboxStore, Store, StoreConfig, StoreMigration } from '@sluice/core';
import { SluiceError } from '@sluice/core';
import { maskUrl } from '@sluice/core/adapter';
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
  const outboxes: (OutboxStore | InboxStore<unknown>)[] = [];
  let closed: Promise<void> | undefined;
  const naming = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw connectionError(error, masked) ?? error;
    }
  };
  const steps = (list: readonly StoreMigration[]): StoreMigration[] =>
    list.map((m) => ({ version: m.version, name: m.name, sql: m.sql }));
  const assertMigrated = async () => {
    const version = await schemaVersion(executor, schema);
    if (version < LATEST_VERSION) {
      throw new SluiceError(
        'SLUICE_MIGRATION_REQUIRED',
        `${name} ${version === 0 ? 'has no Sluice tables' : `is at schema version ${version}, this Sluice needs ${LATEST_VERSION}`}: run \`sluice migrate\` with the same --db and --schema`,
      );
    }
  };
  return {
    kind: 'postgres',
    name,
    pendingMigrations: () => naming(async () => steps(await pendingMigrations(executor, schema))),
    migrate: () => naming(async () => steps(await migrate(executor, schema))),
    createOutbox: (options) =>
      naming(async () => {
        await assertMigrated();
        const outbox = await createPostgresOutbox(pool, { source: options.source, schema });
        outboxes.push(outbox);
        return outbox;
      }),
    createInbox: () =>
      naming(async () => {
        await assertMigrated();
        const inbox = await createPostgresInbox(pool, { schema });
        outboxes.push(inbox);
        return inbox as InboxStore<unknown>;
      }),
    close() {
      closed ??= (async () => {
        for (const o of outboxes) await o.close();
        await pool.end();
      })();
      return closed;
    },
  };
}
