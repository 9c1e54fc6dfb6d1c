import { randomBytes } from 'node:crypto';
import { defineEvent, defineKey, defineTopic } from '@sluice/core';
import mysql from 'mysql2/promise';
import { z } from 'zod';
import { fromMysql, type SqlExecutor } from './mysql-client.js';

/**
 * Helpers for the integration tests: a real MariaDB/MySQL (`SLUICE_TEST_MYSQL_URL`, started by
 * `eval "$(bash scripts/services mariadb)"`), a fresh database per test, dropped afterwards.
 */
export function testUrl(): string {
  const url = process.env['SLUICE_TEST_MYSQL_URL'];
  if (!url) {
    throw new Error(
      'SLUICE_TEST_MYSQL_URL is not set: run `eval "$(bash scripts/services mariadb)"` first (npm test does it)',
    );
  }
  return url;
}

/** A pool on the test server's default database. */
export function newPool(connectionLimit = 10): mysql.Pool {
  return mysql.createPool({ uri: testUrl(), connectionLimit });
}

/** A database name no other test uses. */
export function freshDatabaseName(prefix = 't'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

export interface TestDatabase {
  readonly pool: mysql.Pool;
  readonly database: string;
  /** Opens a connection (its own session, for a writer's transaction) that is closed with the database. */
  connection(): Promise<mysql.Connection>;
  /** Runs a query on the pool and returns its rows. */
  query<R = Record<string, unknown>>(sql: string, values?: unknown[]): Promise<R[]>;
  /** Drops the database and closes every connection. */
  close(): Promise<void>;
}

/** A pool and a fresh (not yet created) database name; `close()` drops the database and ends everything. */
export function testDatabase(options: { max?: number; prefix?: string } = {}): TestDatabase {
  const pool = newPool(options.max ?? 10);
  const database = freshDatabaseName(options.prefix);
  const connections: mysql.Connection[] = [];
  return {
    pool,
    database,
    async connection() {
      const c = await mysql.createConnection({ uri: testUrl() });
      c.on('error', () => undefined);
      connections.push(c);
      return c;
    },
    async query<R>(sql: string, values: unknown[] = []) {
      const [rows] = await pool.query(sql, values);
      return rows as R[];
    },
    async close() {
      await Promise.all(connections.map((c) => c.end().catch(() => undefined)));
      await pool.query(`DROP DATABASE IF EXISTS \`${database}\``).catch(() => undefined);
      await pool.end();
    },
  };
}

export const SOURCE = 'urn:service:accounts';

export const AccountId = defineKey('accountId', z.string().regex(/^A-\d+$/), {
  description: 'An account',
});
export const accounts = defineTopic({ name: 'accounts', kind: 'event', partitions: 4 });

export const AccountOpened = defineEvent({
  type: 'account.opened',
  version: 1,
  key: AccountId,
  schema: z.object({ accountId: z.string(), owner: z.string().min(1), credit: z.number().int().default(0) }),
  topic: accounts,
  description: 'An account was opened',
});

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `work` in a transaction on a connection of the test pool and commits it (rolls back if it throws). */
export async function committed<T>(db: TestDatabase, work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
  const c = await db.pool.getConnection();
  try {
    await c.beginTransaction();
    const result = await work(fromMysql(c));
    await c.commit();
    return result;
  } catch (error) {
    await c.rollback();
    throw error;
  } finally {
    c.release();
  }
}
