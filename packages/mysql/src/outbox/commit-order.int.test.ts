/**
 * Commit-order safety on MySQL/MariaDB: AUTO_INCREMENT positions are taken at insert, but transactions commit in
 * another order. A relay reading `position > last` skips a row whose transaction commits after a later position
 * was read. These tests drive that interleaving against a real server, show that the naive reader does skip,
 * and check that the store's reader and the core relay deliver every committed event exactly once and in
 * sequence order per key, with one relay and with two splitting the partitions.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createRelay, DATABASE_UNAVAILABLE, decodeEnvelope, SluiceError } from '@sluice/core';
import { createMemoryTransport } from '@sluice/core/testing';
import type mysql from 'mysql2/promise';
import { migrate } from '../migrations/migrate.js';
import { fromMysql } from '../mysql-client.js';
import {
  AccountOpened,
  accounts,
  committed,
  newPool,
  SOURCE,
  sleep,
  type TestDatabase,
  testDatabase,
} from '../test-database.test-support.js';
import { createMysqlOutbox, type MysqlOutbox } from './mysql-outbox.js';

let db: TestDatabase;
let outbox: MysqlOutbox;

beforeEach(async () => {
  db = testDatabase({ prefix: 'order', max: 12 });
  await migrate(db.pool, { database: db.database });
  outbox = await createMysqlOutbox(db.pool, { source: SOURCE, database: db.database, pollIntervalMs: 20 });
});

afterEach(async () => {
  await outbox.close();
  await db.close();
});

const append = (c: mysql.Connection, key: string) =>
  outbox.append(fromMysql(c), AccountOpened, { accountId: key, owner: 'o' });

describe('commit order: a lower position committing after a higher one was read', () => {
  it('a naive `position > cursor` reader skips the late row; the store’s reader returns it', async () => {
    const [early, late] = [await db.connection(), await db.connection()];
    await early.beginTransaction();
    const lowRow = await append(early, 'A-1'); // lower position, commits last
    await late.beginTransaction();
    await append(late, 'A-2'); // higher position, commits first
    await late.commit();

    const first = await outbox.readPending(undefined, 100);
    assert.deepEqual(
      first.rows.map((r) => r.key),
      ['A-2'],
    );
    // The naive reader's cursor: the highest position it has read.
    const naiveCursor = first.rows[0]!.position;
    await early.commit();

    const naive = await db.query<{ id: string }>(
      `SELECT id FROM \`${db.database}\`.sluice_outbox WHERE position > ? ORDER BY position`,
      [naiveCursor],
    );
    assert.deepEqual(naive, [], 'the naive reader never sees the late commit: it would be lost');

    const second = await outbox.readPending(first.cursor, 100);
    assert.deepEqual(
      second.rows.map((r) => r.id),
      [lowRow.id],
    );
    assert.ok(second.rows[0]!.position < naiveCursor, 'the late row has the lower position');
    assert.deepEqual((await outbox.readPending(second.cursor, 100)).rows, [], 'and it is returned once');
  });

  it('a key’s next event waits for the earlier one: sequence 2 is held back until 1 is returned', async () => {
    await committed(db, (tx) => outbox.append(tx, AccountOpened, { accountId: 'A-1', owner: 'o' }));
    const batch = await outbox.readPending(undefined, 100);
    assert.equal(batch.rows.length, 1);
    // Forge a row with sequence 3 of A-1 (as if 2 were still uncommitted): the reader must hold it back.
    await db.query(
      `INSERT INTO \`${db.database}\`.sluice_outbox (id, source, topic, \`key\`, type, sequence, key_hash, value)
       VALUES (UUID(), ?, 'accounts', 'A-1', 'account.opened', 3, CRC32('A-1'), NULL)`,
      [SOURCE],
    );
    assert.deepEqual((await outbox.readPending(batch.cursor, 100)).rows, []);
    await db.query(
      `INSERT INTO \`${db.database}\`.sluice_outbox (id, source, topic, \`key\`, type, sequence, key_hash, value)
       VALUES (UUID(), ?, 'accounts', 'A-1', 'account.opened', 2, CRC32('A-1'), NULL)`,
      [SOURCE],
    );
    const next = await outbox.readPending(batch.cursor, 100);
    assert.equal(next.rows.length, 2, 'both once 2 is there');
  });
});

interface Appended {
  readonly id: string;
  readonly key: string;
  readonly sequence: number;
  /** The outbox row's AUTO_INCREMENT position (`LAST_INSERT_ID()` right after the append's insert). */
  readonly position: number;
}

/**
 * Writers on their own connections, until `until`: short transactions, transactions that sleep after their
 * first append (holding a low position open while later ones commit, and the key's sequence row, so other
 * writers of that key queue), and rollbacks. Several keys per transaction in random order also deadlock now
 * and then: the server aborts one, which then counts as rolled back.
 */
async function runWriters(count: number, keys: number, until: number) {
  const committed: (Appended & { commitOrder: number })[] = [];
  const rolledBack: Appended[] = [];
  let commits = 0;
  let deadlocks = 0;
  const writer = async () => {
    const c = await db.connection();
    while (Date.now() < until) {
      const r = Math.random();
      const appended: Appended[] = [];
      try {
        await c.beginTransaction();
        const n = 1 + randomInt(3);
        for (let j = 0; j < n; j++) {
          const a = await append(c, `A-${randomInt(keys)}`);
          const [rows] = await c.query('SELECT LAST_INSERT_ID() AS p');
          appended.push({ ...a, position: Number((rows as { p: number }[])[0]!.p) });
          if (r < 0.2 && j === 0) await c.query('SELECT SLEEP(?)', [0.02 + Math.random() * 0.25]);
        }
        if (r >= 0.87) {
          if (Math.random() < 0.5) await c.query('SELECT SLEEP(0.05)');
          await c.rollback();
          rolledBack.push(...appended);
          continue;
        }
        await c.commit();
        const commitOrder = ++commits;
        for (const a of appended) committed.push({ ...a, commitOrder });
      } catch (error) {
        await c.rollback().catch(() => undefined);
        rolledBack.push(...appended);
        if ((error as { code?: string }).code !== 'ER_LOCK_DEADLOCK') throw error;
        deadlocks++;
      }
    }
  };
  await Promise.all(Array.from({ length: count }, writer));
  return { committed, rolledBack, deadlocks };
}

/** How many committed events committed after an event with a higher position had committed. */
function lateCommits(committed: readonly (Appended & { commitOrder: number })[]) {
  const byCommit = [...committed].sort((a, b) => a.commitOrder - b.commitOrder);
  let maxPosition = 0;
  let late = 0;
  for (const c of byCommit) {
    const p = c.position;
    if (p < maxPosition) late++;
    maxPosition = Math.max(maxPosition, p);
  }
  return late;
}

/** Per key, the sequences in the order given: must be 1, 2, 3, ... */
function assertInOrderPerKey(items: readonly { key: string; sequence: number }[]) {
  const perKey = new Map<string, number[]>();
  for (const r of items) perKey.set(r.key, [...(perKey.get(r.key) ?? []), r.sequence]);
  for (const [key, seqs] of perKey) {
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => i + 1),
      `key ${key} out of order or with a gap`,
    );
  }
  return perKey;
}

/**
 * What the relays published to the memory transport, checked: every committed event at least once, none rolled
 * back, each key's first deliveries 1, 2, 3, ... (a re-sent event after a rebalance repeats an earlier one).
 * Returns how many records were published and how many of them were re-sends.
 */
async function assertPublished(
  transport: ReturnType<typeof createMemoryTransport>,
  committed: readonly Appended[],
  rolledBack: readonly Appended[],
): Promise<{ records: number; resent: number }> {
  const records = (await transport.read('accounts', { to: 'earliest' }, 1_000_000)).sort(
    (a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset),
  );
  const events = records.map((r) => decodeEnvelope(r.value));
  const published = new Set(events.map((e) => e.id));
  assert.deepEqual(
    committed.filter((c) => !published.has(c.id)),
    [],
    'lost',
  );
  assert.deepEqual(
    rolledBack.filter((r) => published.has(r.id)),
    [],
    'phantom',
  );
  const firsts = new Set<string>();
  const firstDeliveries = events.filter((e) => !firsts.has(e.id) && firsts.add(e.id));
  assertInOrderPerKey(firstDeliveries.map((e) => ({ key: e.subject!, sequence: e.sluiceseq })));
  return { records: records.length, resent: records.length - published.size };
}

describe('commit order under concurrency', () => {
  it('two relay instances split the partitions: together they publish every committed event, in order per key', {
    timeout: 120_000,
  }, async (t) => {
    const transport = createMemoryTransport();
    const otherPool = newPool(4);
    const other = await createMysqlOutbox(otherPool, {
      source: SOURCE,
      database: db.database,
      pollIntervalMs: 20,
    });
    const options = {
      transport,
      topics: [accounts],
      batchSize: 40,
      idleWaitMs: 50,
      leaseTtlMs: 1500,
      ackIntervalMs: 20,
    };
    const one = createRelay({ ...options, outbox, owner: 'relay-1' }).start();
    const two = createRelay({ ...options, outbox: other, owner: 'relay-2' }).start();
    try {
      const { committed, rolledBack } = await runWriters(8, 24, Date.now() + 4000);
      const deadline = Date.now() + 30_000;
      while ((await outbox.stats()).pending > 0 && Date.now() < deadline) await sleep(50);
      const [s1, s2] = [await one.stats(), await two.stats()];
      assert.equal(s1.outbox.pending, 0, 'the relays did not drain the outbox');
      assert.deepEqual([s1.partitions.length, s2.partitions.length], [8, 8], 'an even split');
      assert.equal(new Set([...s1.partitions, ...s2.partitions]).size, 16, 'no partition has two owners');
      assert.ok(s1.published > 0 && s2.published > 0, `both published (${s1.published}, ${s2.published})`);

      const { records, resent } = await assertPublished(transport, committed, rolledBack);
      const late = lateCommits(committed);
      assert.ok(late > 0, 'no row committed after a higher position: the test proved nothing');
      t.diagnostic(
        `${committed.length} committed (${late} behind a higher position), ${rolledBack.length} rolled back, ` +
          `${records} published (${resent} re-sent), ` +
          `relay-1 ${s1.published} on ${s1.partitions.length} partitions, relay-2 ${s2.published} on ${s2.partitions.length}`,
      );
    } finally {
      await one.stop();
      await two.stop();
      await other.close();
      await otherPool.end();
    }
  });
  it('failover: a relay that loses its database mid-run stops; the other takes its partitions at lease expiry and nothing is lost', {
    timeout: 120_000,
  }, async (t) => {
    const transport = createMemoryTransport();
    const otherPool = newPool(4);
    const other = await createMysqlOutbox(otherPool, {
      source: SOURCE,
      database: db.database,
      pollIntervalMs: 20,
    });
    // Relay-1's view of the database: once `cut`, every call fails as an unreachable server would.
    let cut = false;
    const unreachable = () =>
      Promise.reject(new SluiceError(DATABASE_UNAVAILABLE, 'connection refused (test)'));
    const flaky = new Proxy(outbox, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        if (typeof value !== 'function' || name === 'close' || name === 'waitForAppend') return value;
        return (...args: unknown[]) => (cut ? unreachable() : value.apply(target, args));
      },
    });
    const options = {
      transport,
      topics: [accounts],
      batchSize: 40,
      idleWaitMs: 50,
      leaseTtlMs: 1500,
      ackIntervalMs: 20,
    };
    const one = createRelay({ ...options, outbox: flaky, owner: 'relay-1' }).start();
    const two = createRelay({ ...options, outbox: other, owner: 'relay-2' }).start();
    try {
      const writing = runWriters(8, 24, Date.now() + 5000);
      await sleep(2000);
      const before = await one.stats();
      assert.equal(before.partitions.length, 8, 'relay-1 held its share before the cut');
      assert.ok(before.published > 0, 'relay-1 published before the cut');
      cut = true;
      const cutAt = Date.now();
      const { committed, rolledBack } = await writing;
      const deadline = Date.now() + 30_000;
      while ((await other.stats()).pending > 0 && Date.now() < deadline) await sleep(50);
      const s2 = await two.stats();
      assert.equal(s2.outbox.pending, 0, 'relay-2 did not drain the outbox');
      assert.equal(s2.partitions.length, 16, 'relay-2 took every partition over');

      const { records, resent } = await assertPublished(transport, committed, rolledBack);
      t.diagnostic(
        `${committed.length} committed, ${records} published (${resent} re-sent after the failover), ` +
          `relay-1 published ${before.published} before its database was cut (${Date.now() - cutAt} ms ago), relay-2 ${s2.published}`,
      );
    } finally {
      cut = false;
      await one.stop();
      await two.stop();
      await other.close();
      await otherPool.end();
    }
  });
});
