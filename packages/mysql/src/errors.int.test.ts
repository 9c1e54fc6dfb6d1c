import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRetryable, SluiceError } from '@sluice/core';
import { maskUrl } from '@sluice/core/adapter';
import mysql from 'mysql2/promise';
import { connectionError } from './errors.js';
import { migrate } from './migrations/migrate.js';
import { testUrl } from './test-database.test-support.js';

const SECRET = 'wrong-secret-5150';

describe('mysql errors', () => {
  it('migrate with a wrong password: SLUICE_DATABASE_AUTH_FAILED, not a failed migration; no password shown', async () => {
    const url = new URL(testUrl());
    url.password = SECRET;
    const pool = mysql.createPool({ uri: url.href, connectionLimit: 1 });
    try {
      const error = await migrate(pool).then(
        () => assert.fail('migrate succeeded with a wrong password'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof SluiceError, String(error));
      assert.equal(error.code, 'SLUICE_DATABASE_AUTH_FAILED');
      assert.equal(isRetryable(error), false);
      assert.doesNotMatch(error.message, /migration \d/);
      assert.doesNotMatch(error.message, new RegExp(SECRET));
      const named = connectionError(error, maskUrl(url.href));
      assert.ok(named);
      assert.ok(named.message.startsWith(`cannot connect to mysql://${url.username}:***@`), named.message);
      assert.doesNotMatch(named.message, new RegExp(SECRET));
    } finally {
      await pool.end();
    }
  });

  it('nothing listening at the URL: SLUICE_DATABASE_UNAVAILABLE, retryable', async () => {
    const url = new URL(testUrl());
    url.port = '1';
    const pool = mysql.createPool({ uri: url.href, connectionLimit: 1 });
    try {
      await assert.rejects(migrate(pool), (error: unknown) => {
        assert.ok(error instanceof SluiceError, String(error));
        assert.equal(error.code, 'SLUICE_DATABASE_UNAVAILABLE');
        assert.ok(isRetryable(error));
        return true;
      });
    } finally {
      await pool.end();
    }
  });
});
