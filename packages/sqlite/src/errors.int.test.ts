import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isRetryable, SluiceError } from '@sluice/core';
import Database from 'better-sqlite3';
import { isSqliteBusy, toSluiceError } from './errors.js';
import { createLogTransport } from './log/log-transport.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-errors-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('sqlite errors', () => {
  it('a log file in a directory that does not exist: says so and names the path, not retryable', () => {
    const path = join(dir, 'no-such-dir', 'bus.db');
    assert.throws(
      () => createLogTransport({ path }),
      (error: unknown) => {
        assert.ok(error instanceof SluiceError);
        assert.equal(error.code, 'SLUICE_DATABASE_ERROR');
        assert.equal(isRetryable(error), false);
        assert.ok(error.message.includes(path), error.message);
        assert.match(error.message, /directory does not exist or is not writable; create the directory/);
        return true;
      },
    );
  });

  it("another connection's write lock: SLUICE_BUSY, retryable", () => {
    const path = join(dir, 'busy.db');
    const holder = new Database(path);
    const waiter = new Database(path);
    try {
      holder.exec('CREATE TABLE t (x)');
      waiter.pragma('busy_timeout = 0');
      holder.exec('BEGIN IMMEDIATE');
      let caught: unknown;
      try {
        waiter.exec('BEGIN IMMEDIATE');
      } catch (error) {
        caught = error;
      }
      assert.ok(isSqliteBusy(caught), `expected SQLITE_BUSY, got ${String(caught)}`);
      const error = toSluiceError(caught, 'writing', path);
      assert.equal(error.code, 'SLUICE_BUSY');
      assert.ok(isRetryable(error));
      holder.exec('ROLLBACK');
    } finally {
      holder.close();
      waiter.close();
    }
  });
});
