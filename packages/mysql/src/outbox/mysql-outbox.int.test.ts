import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { MigrationRequiredError, SluiceError, silentLogger } from '@sluice/core';
import mysql from 'mysql2/promise';
import { migrate } from '../migrations/migrate.js';
import { fromMysql } from '../mysql-client.js';
import {
  AccountOpened,
  committed,
  SOURCE,
  type TestDatabase,
  testDatabase,
  testUrl,
} from '../test-database.test-support.js';
import { createMysqlOutbox, type MysqlOutbox } from './mysql-outbox.js';

let db: TestDatabase;
let outbox: MysqlOutbox;

beforeEach(async () => {
  db = testDatabase({ prefix: 'outbox' });
  await migrate(db.pool, { database: db.database });
  outbox = await createMysqlOutbox(db.pool, { source: SOURCE, database: db.database });
});

afterEach(async () => {
  await outbox.close();
  await db.close();
});

const count = async (table: string) =>
  Number((await db.query<{ n: number }>(`SELECT COUNT(*) AS n FROM \`${db.database}\`.${table}`))[0]!.n);

describe('append', () => {
  it('through a pool (statements on any connection, each its own transaction) is refused and writes nothing', async () => {
    await assert.rejects(
      outbox.append(fromMysql(db.pool), AccountOpened, { accountId: 'A-1', owner: 'x' }),
      (e: unknown) =>
        e instanceof SluiceError &&
        e.code === 'SLUICE_APPEND_OUTSIDE_TRANSACTION' &&
        /Nothing was written/.test(e.message) &&
        /fromMysql\(conn\)/.test(e.message),
    );
    assert.equal(await count('sluice_outbox_sequence'), 0);
    assert.equal(await count('sluice_outbox'), 0);
  });

  it('keys are compared byte for byte: another key differing only in case has its own sequence', async () => {
    await db.query(
      `INSERT INTO \`${db.database}\`.sluice_outbox_sequence (source, topic, \`key\`, last) VALUES (?, 'accounts', 'a-1', 41)`,
      [SOURCE],
    );
    const r = await committed(db, (tx) => outbox.append(tx, AccountOpened, { accountId: 'A-1', owner: 'x' }));
    assert.equal(r.sequence, 1, 'A-1 is not a-1 (a case-insensitive collation would have given 42)');
  });

  it('tables missing: append, readPending and stats throw MigrationRequiredError', async () => {
    await db.query(`DROP TABLE \`${db.database}\`.sluice_outbox`);
    await assert.rejects(
      committed(db, (tx) => outbox.append(tx, AccountOpened, { accountId: 'A-1', owner: 'x' })),
      (e: unknown) => e instanceof MigrationRequiredError && e.message.includes('sluice_outbox is missing'),
    );
    await assert.rejects(outbox.readPending(undefined, 10), MigrationRequiredError);
    await assert.rejects(outbox.stats(), MigrationRequiredError);
  });

  it('an unreachable server: the relay’s reads throw a retryable SLUICE_DATABASE_UNAVAILABLE', async () => {
    const dead = mysql.createPool({ host: '127.0.0.1', port: 1, user: 'x', connectTimeout: 500 });
    try {
      const { MysqlOutbox } = await import('./mysql-outbox.js');
      const o = new MysqlOutbox(dead, db.database, {
        source: SOURCE,
        database: db.database,
        migrate: false,
        pollIntervalMs: 100,
        logger: silentLogger,
      });
      for (const attempt of [
        () => o.readPending(undefined, 10),
        () => o.stats(),
        () => o.acquireLease('r', 1000),
      ]) {
        await assert.rejects(
          attempt(),
          (e: unknown) =>
            e instanceof SluiceError &&
            e.code === 'SLUICE_DATABASE_UNAVAILABLE' &&
            e.retryable &&
            /MySQL/.test(e.message),
        );
      }
    } finally {
      await dead.end();
    }
  });
});

describe('relay side', () => {
  it('a relay pool whose sessions run REPEATABLE READ with autocommit off still sees every new commit', async () => {
    const sticky = mysql.createPool({ uri: testUrl(), connectionLimit: 1 });
    sticky.on('connection', (c) => {
      c.query('SET SESSION autocommit = 0');
      c.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    });
    try {
      const relaySide = await createMysqlOutbox(sticky, { source: SOURCE, database: db.database });
      // A stray statement on the session leaves a transaction (and, at REPEATABLE READ, its snapshot) open.
      await sticky.query(`SELECT COUNT(*) FROM \`${db.database}\`.sluice_outbox`);
      const first = await relaySide.readPending(undefined, 10);
      assert.deepEqual(first.rows, []);
      await committed(db, (tx) => outbox.append(tx, AccountOpened, { accountId: 'A-1', owner: 'x' }));
      const second = await relaySide.readPending(first.cursor, 10);
      assert.equal(second.rows.length, 1, 'the read saw the commit made after the session’s snapshot');
      assert.equal((await relaySide.stats()).pending, 1);
      await relaySide.acknowledge(second.rows);
      assert.equal(await count('sluice_outbox'), 0, 'the acknowledgement committed');
      assert.equal((await relaySide.acquireLease('sticky', 5000)).partitions.length, 16);
      await relaySide.releaseLease('sticky');
      const owners = await db.query<{ n: number }>(
        `SELECT COUNT(*) AS n FROM \`${db.database}\`.sluice_relay_partition WHERE owner IS NOT NULL`,
      );
      assert.equal(Number(owners[0]!.n), 0, 'the release committed');
    } finally {
      await sticky.end();
    }
  });
});
