import { randomBytes } from 'node:crypto';
import { defineEvent, defineKey, defineTopic } from '@sluice/core';
import pg from 'pg';
import { z } from 'zod';

/**
 * Helpers for the integration tests: a real PostgreSQL (`SLUICE_TEST_PG_URL`, started by
 * `eval "$(bash scripts/services postgres)"`), a fresh schema per test, dropped afterwards.
 */
export function testUrl(): string {
  const url = process.env['SLUICE_TEST_PG_URL'];
  if (!url) {
    throw new Error(
      'SLUICE_TEST_PG_URL is not set: run `eval "$(bash scripts/services postgres)"` first (npm test does it)',
    );
  }
  return url;
}

/** A pool on the test database. */
export function newPool(max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: testUrl(), max });
  pool.on('error', () => undefined); // an idle client whose backend a test terminated
  return pool;
}

/** A single connection on the test database (a writer with its own transaction). */
export async function newClient(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: testUrl() });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** A schema name no other test uses. */
export function freshSchemaName(prefix = 't'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

export interface TestDatabase {
  readonly pool: pg.Pool;
  readonly schema: string;
  /** Opens a connection that is closed with the database. */
  client(): Promise<pg.Client>;
  /** Runs a query on the pool. */
  query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, values?: unknown[]): Promise<R[]>;
  /** Drops the schema and closes every connection. */
  close(): Promise<void>;
}

/** A pool and a fresh (not yet created) schema name; `close()` drops the schema and ends everything. */
export function testDatabase(options: { max?: number; prefix?: string } = {}): TestDatabase {
  return databaseAt(testUrl(), freshSchemaName(options.prefix), options.max ?? 10, async () => undefined);
}

/**
 * Like `testDatabase`, in a database of its own that `close()` drops: what VACUUM may remove depends on the
 * oldest transaction in the same database, so a test that measures bloat must not share one with the tests
 * running beside it.
 */
export async function ownTestDatabase(
  options: { max?: number; prefix?: string } = {},
): Promise<TestDatabase> {
  const schema = freshSchemaName(options.prefix);
  const name = `sluice_${schema}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: testUrl() });
    await c.connect();
    await c.query(sql).finally(() => c.end());
  };
  await admin(`CREATE DATABASE "${name}"`);
  const url = new URL(testUrl());
  url.pathname = `/${name}`;
  return databaseAt(url.toString(), schema, options.max ?? 10, () =>
    admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  );
}

function databaseAt(
  url: string,
  schema: string,
  max: number,
  dropDatabase: () => Promise<void>,
): TestDatabase {
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on('error', () => undefined); // an idle client whose backend a test terminated
  const clients: pg.Client[] = [];
  return {
    pool,
    schema,
    async client() {
      const c = new pg.Client({ connectionString: url });
      c.on('error', () => undefined);
      await c.connect();
      clients.push(c);
      return c;
    },
    async query<R extends pg.QueryResultRow>(sql: string, values: unknown[] = []) {
      return (await pool.query<R>(sql, values)).rows;
    },
    async close() {
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await pool.end();
      await dropDatabase();
    },
  };
}

export const SOURCE = 'urn:service:accounts';

export const AccountId = defineKey('accountId', z.string().regex(/^A-\d+$/), {
  description: 'An account',
});
export const accounts = defineTopic({ name: 'accounts', kind: 'event', partitions: 4 });
export const audit = defineTopic({ name: 'account-audit', kind: 'event', partitions: 2 });

export const AccountOpened = defineEvent({
  type: 'account.opened',
  version: 1,
  key: AccountId,
  schema: z.object({ accountId: z.string(), owner: z.string().min(1), credit: z.number().int().default(0) }),
  topic: accounts,
  description: 'An account was opened',
});

export const AccountAudited = defineEvent({
  type: 'account.audited',
  version: 1,
  key: AccountId,
  schema: z.object({ accountId: z.string() }),
  topic: audit,
  description: 'An account was audited',
});

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
