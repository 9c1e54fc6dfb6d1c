import { maskUrl } from '@sluice/core/adapter';
import {
  assertMigrated,
  createMysqlOutbox,
  migrate,
  pendingMigrations,
  resolveDatabase,
} from '@sluice/mysql';
import mysql from 'mysql2/promise';
import type { MigrationStatement, OpenedMigrations, OpenedOutbox } from './context.js';

/** A small pool for one CLI command on a `mysql://` (or `mariadb://`) URL. */
export function openMysqlPool(url: string): mysql.Pool {
  return mysql.createPool({
    uri: url.replace(/^mariadb:/i, 'mysql:'),
    connectionLimit: 4,
    connectTimeout: 10_000,
  });
}

/** `sluice migrate` on MySQL / MariaDB: Sluice's tables in `database`, or the URL's database. */
export function openMysqlMigrations(url: string, database: string | undefined): OpenedMigrations {
  const pool = openMysqlPool(url);
  const options = database === undefined ? {} : { database };
  const steps = (list: readonly { version: number; name: string; sql: string }[]): MigrationStatement[] =>
    list.map((s) => ({ version: s.version, name: s.name, sql: s.sql }));
  let closed: Promise<void> | undefined;
  return {
    name: `${maskUrl(url)}${database === undefined ? '' : ` database ${database}`}`,
    pending: async () => steps(await pendingMigrations(pool, options)),
    apply: async () => steps(await migrate(pool, options)),
    close: () => {
      closed ??= pool.end();
      return closed;
    },
  };
}

/** The MySQL / MariaDB outbox in `database` (or the URL's), for one command; refuses an unmigrated one. */
export async function openMysqlOutbox(
  url: string,
  database: string | undefined,
  source: string,
): Promise<OpenedOutbox> {
  const pool = openMysqlPool(url);
  try {
    const resolved = await resolveDatabase(pool, database, 'sluice');
    const name = `${maskUrl(url)} database ${resolved}`;
    await assertMigrated(pool, resolved, name);
    const store = await createMysqlOutbox(pool, { source, database: resolved });
    let closed: Promise<void> | undefined;
    return {
      store,
      name,
      close: () => {
        closed ??= (async () => {
          await store.close();
          await pool.end();
        })();
        return closed;
      },
    };
  } catch (error) {
    await pool.end();
    throw error;
  }
}
