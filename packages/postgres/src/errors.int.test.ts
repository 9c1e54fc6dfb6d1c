import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRetryable, SluiceError } from '@sluice/core';
import { maskUrl } from '@sluice/core/adapter';
import pg from 'pg';
import { connectionError, toSluiceError } from './errors.js';
import { migrate } from './migrations/migrate.js';
import { fromPg } from './pg-client.js';
import { freshSchemaName, newClient, testUrl } from './test-database.test-support.js';

const SECRET = 'wrong-secret-5150';

describe('postgres errors', () => {
  it('migrate with a wrong password: SLUICE_DATABASE_AUTH_FAILED, not a failed migration; no password shown', async () => {
    const url = new URL(testUrl());
    url.password = SECRET;
    const pool = new pg.Pool({ connectionString: url.href, max: 1 });
    pool.on('error', () => undefined);
    try {
      const error = await migrate(fromPg(pool), freshSchemaName()).then(
        () => assert.fail('migrate succeeded with a wrong password'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof SluiceError);
      assert.equal(error.code, 'SLUICE_DATABASE_AUTH_FAILED');
      assert.equal(isRetryable(error), false);
      assert.doesNotMatch(error.message, /migration \d|create schema/);
      assert.doesNotMatch(error.message, new RegExp(SECRET));
      // Named with a masked URL, as the CLI does:
      const named = connectionError(error, maskUrl(url.href));
      assert.ok(named);
      assert.ok(
        named.message.startsWith(`cannot connect to ${url.protocol}//${url.username}:***@`),
        named.message,
      );
      assert.doesNotMatch(named.message, new RegExp(SECRET));
    } finally {
      await pool.end();
    }
  });

  it('a row lock another transaction holds (NOWAIT): SLUICE_BUSY, retryable', async () => {
    const holder = await newClient();
    const waiter = await newClient();
    const table = `errors_${freshSchemaName()}`;
    try {
      await holder.query(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
      await holder.query(`INSERT INTO ${table} VALUES (1)`);
      await holder.query('BEGIN');
      await holder.query(`SELECT * FROM ${table} WHERE id = 1 FOR UPDATE`);
      const cause = await waiter.query(`SELECT * FROM ${table} WHERE id = 1 FOR UPDATE NOWAIT`).then(
        () => assert.fail('the lock was not held'),
        (e: unknown) => e,
      );
      const error = toSluiceError(cause, 'locking a row', 'the table is missing');
      assert.equal(error.code, 'SLUICE_BUSY');
      assert.ok(isRetryable(error));
      await holder.query('ROLLBACK');
    } finally {
      await holder.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
      await holder.end();
      await waiter.end();
    }
  });
});
