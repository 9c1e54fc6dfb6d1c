import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ContractViolationError, decodeEnvelope, MigrationRequiredError, SluiceError } from '@sluice/core';
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
  it('in a committed transaction: the row is read with its envelope, sequence 1, 2, ... per key', async () => {
    const c = await db.connection();
    await c.beginTransaction();
    const a = await outbox.append(
      fromMysql(c),
      AccountOpened,
      { accountId: 'A-1', owner: 'ann' },
      {
        correlationid: 'corr-1',
      },
    );
    const b = await outbox.append(fromMysql(c), AccountOpened, { accountId: 'A-1', owner: 'bob' });
    const other = await outbox.append(fromMysql(c), AccountOpened, { accountId: 'A-2', owner: 'cy' });
    assert.deepEqual([a.sequence, b.sequence, other.sequence], [1, 2, 1]);
    assert.deepEqual((await outbox.readPending(undefined, 10)).rows, [], 'nothing before the commit');
    await c.commit();

    const batch = await outbox.readPending(undefined, 10);
    assert.deepEqual(
      batch.rows.map((r) => [r.key, r.id]),
      [
        ['A-1', a.id],
        ['A-1', b.id],
        ['A-2', other.id],
      ],
    );
    const e = decodeEnvelope(batch.rows[0]!.value);
    assert.equal(e.source, SOURCE);
    assert.equal(e.type, 'account.opened');
    assert.equal(e.subject, 'A-1');
    assert.equal(e.sluiceseq, 1);
    assert.equal(e.correlationid, 'corr-1');
    assert.deepEqual(e.data, { accountId: 'A-1', owner: 'ann', credit: 0 });
    assert.equal(decodeEnvelope(batch.rows[1]!.value).sluiceseq, 2);

    // Read again in the same chain: nothing new; acknowledged rows are deleted and their sequence recorded.
    assert.deepEqual((await outbox.readPending(batch.cursor, 10)).rows, []);
    await outbox.acknowledge(batch.rows);
    await outbox.acknowledge(batch.rows); // idempotent
    assert.equal(await count('sluice_outbox'), 0);
    const delivered = await db.query<{ key: string; sequence: number }>(
      `SELECT \`key\`, sequence FROM \`${db.database}\`.sluice_outbox_delivered ORDER BY \`key\``,
    );
    assert.deepEqual(
      delivered.map((d) => [d.key, Number(d.sequence)]),
      [
        ['A-1', 2],
        ['A-2', 1],
      ],
    );
    const next = await committed(db, (tx) =>
      outbox.append(tx, AccountOpened, { accountId: 'A-1', owner: 'dee' }),
    );
    assert.equal(next.sequence, 3);
    const after = await outbox.readPending(undefined, 10);
    assert.deepEqual(
      after.rows.map((r) => decodeEnvelope(r.value).sluiceseq),
      [3],
      'an unknown cursor starts from every pending row, after the acknowledged sequence',
    );
  });

  it('in a rolled-back transaction: nothing is read, and the sequence number is given again', async () => {
    const c = await db.connection();
    await c.beginTransaction();
    await outbox.append(fromMysql(c), AccountOpened, { accountId: 'A-1', owner: 'ann' });
    await outbox.append(fromMysql(c), AccountOpened, { accountId: 'A-1', owner: 'ann' });
    await c.rollback();
    assert.deepEqual((await outbox.readPending(undefined, 10)).rows, []);
    assert.equal(await count('sluice_outbox'), 0);
    assert.equal(await count('sluice_outbox_sequence'), 0);
    await c.beginTransaction();
    const again = await outbox.append(fromMysql(c), AccountOpened, { accountId: 'A-1', owner: 'ann' });
    await c.commit();
    assert.equal(again.sequence, 1, 'gap-free: the rolled-back numbers were taken back');
  });

  it('an invalid event is refused with its contract, field path and reason, and writes nothing', async () => {
    const c = await db.connection();
    await c.beginTransaction();
    await assert.rejects(
      outbox.append(fromMysql(c), AccountOpened, { accountId: 'A-1', owner: '' }),
      (e: unknown) => {
        assert.ok(e instanceof ContractViolationError, String(e));
        assert.equal(e.code, 'SLUICE_CONTRACT_VIOLATION');
        assert.equal(e.eventType, 'account.opened');
        assert.equal(e.version, 1);
        assert.equal(e.issues[0]!.path, 'owner');
        assert.match(e.message, /account\.opened v1/);
        assert.match(e.message, /at owner: expected/);
        assert.match(e.message, /Nothing was written/);
        return true;
      },
    );
    await assert.rejects(
      outbox.append(fromMysql(c), AccountOpened, { accountId: 'not-an-account', owner: 'x' } as never),
      (e: unknown) => e instanceof ContractViolationError && e.issues.some((i) => i.path === 'accountId'),
    );
    await c.commit();
    assert.equal(await count('sluice_outbox'), 0);
    assert.equal(await count('sluice_outbox_sequence'), 0);
  });

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
  it('stats count pending rows per partition with the oldest age; leases are split and released', async () => {
    for (let i = 0; i < 10; i++) {
      await committed(db, (tx) => outbox.append(tx, AccountOpened, { accountId: `A-${i}`, owner: 'o' }));
    }
    const stats = await outbox.stats();
    assert.equal(stats.pending, 10);
    assert.equal(stats.partitions.length, 16);
    assert.ok(stats.oldestPendingAgeMs !== null && stats.oldestPendingAgeMs >= 0);
    assert.ok(stats.partitions.every((p) => p.owner === null));

    const one = await outbox.acquireLease('relay-1', 5000);
    assert.equal(one.partitionCount, 16);
    assert.equal(one.partitions.length, 16, 'alone: every partition');
    const two = await outbox.acquireLease('relay-2', 5000);
    assert.deepEqual(two.partitions, [], 'all taken until relay-1 gives its surplus up');
    const oneAgain = await outbox.acquireLease('relay-1', 5000);
    assert.equal(oneAgain.partitions.length, 8);
    const twoAgain = await outbox.acquireLease('relay-2', 5000);
    assert.equal(twoAgain.partitions.length, 8);
    assert.deepEqual(
      [...oneAgain.partitions, ...twoAgain.partitions].sort((a, b) => a - b),
      [...Array.from({ length: 16 }, (_, i) => i)],
    );
    const owned = await outbox.stats();
    assert.equal(owned.partitions.filter((p) => p.owner === 'relay-1').length, 8);
    assert.ok(owned.partitions.every((p) => p.leaseExpiresInMs !== null && p.leaseExpiresInMs <= 5000));

    // Each relay reads only its partitions' keys; together they read every row once.
    const r1 = await outbox.readPending(undefined, 100, oneAgain.partitions);
    const r2 = await outbox.readPending(undefined, 100, twoAgain.partitions);
    assert.equal(r1.rows.length + r2.rows.length, 10);
    assert.equal(new Set([...r1.rows, ...r2.rows].map((r) => r.id)).size, 10);

    await outbox.releaseLease('relay-1');
    assert.equal(
      (await outbox.acquireLease('relay-2', 5000)).partitions.length,
      16,
      'relay-2 takes them over',
    );
  });

  it('listRows pages through the pending rows of one topic (acknowledged rows are gone); listChains its counters', async () => {
    const appended = await committed(db, async (tx) => {
      const out = [];
      for (const id of ['A-1', 'A-2', 'A-1', 'A-3']) {
        out.push(await outbox.append(tx, AccountOpened, { accountId: id, owner: 'ann' }));
      }
      return out;
    });
    await outbox.acknowledge((await outbox.readPending(undefined, 1)).rows);
    const listed = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await outbox.listRows('accounts', cursor, 2);
      listed.push(...page.rows);
      cursor = page.cursor;
      pages++;
    } while (cursor !== undefined);
    assert.deepEqual(
      listed.map((r) => [r.id, r.source, r.key, r.sequence, r.delivered]),
      appended.slice(1).map((a) => [a.id, SOURCE, a.key, a.sequence, false]),
    );
    assert.equal(pages, 2);
    assert.deepEqual((await outbox.listRows('account-audit', undefined, 10)).rows, []);
    const first = await outbox.listChains('accounts', undefined, 2);
    const rest = await outbox.listChains('accounts', first.cursor, 2);
    assert.equal(rest.cursor, undefined);
    assert.deepEqual(
      [...first.chains, ...rest.chains].map((c) => [c.source, c.key, c.appended]),
      [
        [SOURCE, 'A-1', 2],
        [SOURCE, 'A-2', 1],
        [SOURCE, 'A-3', 1],
      ],
    );
  });

  it('relays starting together never both take a partition', async () => {
    for (let round = 0; round < 10; round++) {
      await db.query(`UPDATE \`${db.database}\`.sluice_relay_partition SET owner = NULL, expires_at = NULL`);
      await db.query(`DELETE FROM \`${db.database}\`.sluice_relay_member`);
      const leases = await Promise.all(
        ['a', 'b', 'c'].map((owner) => outbox.acquireLease(`${owner}-${round}`, 5000)),
      );
      const all = leases.flatMap((l) => l.partitions);
      assert.equal(
        new Set(all).size,
        all.length,
        `round ${round}: a partition given twice: ${JSON.stringify(leases)}`,
      );
      const owners = await db.query<{ n: number }>(
        `SELECT COUNT(*) AS n FROM \`${db.database}\`.sluice_relay_partition WHERE owner IS NOT NULL`,
      );
      assert.equal(Number(owners[0]!.n), all.length, 'what each was told matches the table');
    }
  });

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

  it('waitForAppend resolves within the poll interval, and at once on abort', async () => {
    const started = Date.now();
    await outbox.waitForAppend(10_000);
    assert.ok(Date.now() - started < 1000);
    const abort = new AbortController();
    const waiting = outbox.waitForAppend(10_000, abort.signal);
    abort.abort();
    await waiting;
  });
});
