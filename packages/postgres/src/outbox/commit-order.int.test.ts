/**
 * Commit-order safety: positions are assigned at insert, but transactions commit in another order. A relay
 * reading `position > last` skips a row whose transaction commits after a later position was read; windows of
 * transactions below the snapshot xmin skip nothing but can return a key's later event first (the Y/W/X case
 * below). These tests drive those interleavings against a real PostgreSQL and check that every committed
 * event is returned exactly once and in sequence order per key.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createRelay, decodeEnvelope } from '@sluice/core';
import type { OutboxRow } from '@sluice/core/adapter';
import { createMemoryTransport } from '@sluice/core/testing';
import type pg from 'pg';
import { migrate } from '../migrations/migrate.js';
import { fromPg } from '../pg-client.js';
import {
  AccountOpened,
  accounts,
  SOURCE,
  sleep,
  type TestDatabase,
  testDatabase,
} from '../test-database.test-support.js';
import { createPostgresOutbox, type PostgresOutbox } from './postgres-outbox.js';

let db: TestDatabase;
let outbox: PostgresOutbox;

beforeEach(async () => {
  db = testDatabase({ prefix: 'order', max: 12 });
  await migrate(fromPg(db.pool), db.schema);
  outbox = await createPostgresOutbox(db.pool, { source: SOURCE, schema: db.schema });
});

afterEach(async () => {
  await outbox.close();
  await db.close();
});

const sequences = (rows: readonly OutboxRow[]) => rows.map((r) => decodeEnvelope(r.value).sluiceseq);
const append = (c: pg.Client | pg.Pool, key: string) =>
  outbox.append(fromPg(c), AccountOpened, { accountId: key, owner: 'o' });

/** BEGIN and take a transaction id now: its rows get this txid, whenever they are written. */
async function beginWithXid(c: pg.Client): Promise<bigint> {
  await c.query('BEGIN');
  const { rows } = await c.query<{ x: string }>('SELECT pg_current_xact_id()::text AS x');
  return BigInt(rows[0]!.x);
}

async function backendPid(c: pg.Client): Promise<number> {
  return (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
}

/** Resolves once backend `pid` waits on a lock. */
async function blockedOnLock(pid: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const rows = await db.query<{ w: string | null }>(
      'SELECT wait_event_type AS w FROM pg_stat_activity WHERE pid = $1',
      [pid],
    );
    if (rows[0]?.w === 'Lock') return;
    await sleep(5);
  }
  assert.fail(`backend ${pid} never waited on a lock`);
}

/** Key A-1 at delivered sequence 4: appended, read and acknowledged. Returns the relay's cursor. */
async function deliveredUpTo4(): Promise<string | undefined> {
  for (let i = 0; i < 4; i++) await append(db.pool, 'A-1');
  const batch = await outbox.readPending(undefined, 100);
  assert.deepEqual(sequences(batch.rows), [1, 2, 3, 4]);
  await outbox.acknowledge(batch.rows);
  return batch.cursor;
}

describe('commit order: the Y/W/X interleaving', () => {
  it('Y (xid 60) commits seq 6 after X (xid 70) committed seq 5, W (xid 65) still open: 5 then 6', async () => {
    const cursor = await deliveredUpTo4();
    const [y, w, x] = [await db.client(), await db.client(), await db.client()];
    const yPid = await backendPid(y);
    const yXid = await beginWithXid(y);
    const wXid = await beginWithXid(w);
    const xXid = await beginWithXid(x);
    assert.ok(yXid < wXid && wXid < xXid, `xids ${yXid} < ${wXid} < ${xXid}`);

    assert.equal((await append(x, 'A-1')).sequence, 5);
    const yAppend = append(y, 'A-1'); // waits on X's lock on A-1's sequence row
    await blockedOnLock(yPid);
    await x.query('COMMIT');
    assert.equal((await yAppend).sequence, 6, 'Y waited for X and took the next number');
    await y.query('COMMIT');

    // The hazard is real: the window below the snapshot xmin (W) holds Y's seq 6 but not X's seq 5.
    const belowXmin = await db.query<{ sequence: string }>(
      `SELECT sequence::text AS sequence FROM "${db.schema}".outbox
       WHERE key = 'A-1' AND txid < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY position`,
    );
    assert.deepEqual(
      belowXmin.map((r) => Number(r.sequence)),
      [6],
    );

    // The outbox returns 5 then 6, with W still open.
    const batch = await outbox.readPending(cursor, 100);
    assert.deepEqual(sequences(batch.rows), [5, 6]);
    await outbox.acknowledge(batch.rows);
    await w.query('COMMIT');
    assert.deepEqual((await outbox.readPending(batch.cursor, 100)).rows, []);
  });

  it('reading between the commits: X first while W and Y are open, then Y; nothing waits for W', async () => {
    let cursor = await deliveredUpTo4();
    const [y, w, x] = [await db.client(), await db.client(), await db.client()];
    const yPid = await backendPid(y);
    await beginWithXid(y);
    await beginWithXid(w);
    await beginWithXid(x);
    await append(x, 'A-1');
    const yAppend = append(y, 'A-1');
    await blockedOnLock(yPid);
    assert.deepEqual((await outbox.readPending(cursor, 100)).rows, [], 'nothing committed yet');
    await x.query('COMMIT');
    await yAppend;

    const first = await outbox.readPending(cursor, 100);
    assert.deepEqual(sequences(first.rows), [5], "X's event, although older transactions are open");
    cursor = first.cursor;
    assert.deepEqual((await outbox.readPending(cursor, 100)).rows, [], "Y's is not committed");
    await y.query('COMMIT');
    const second = await outbox.readPending(cursor, 100);
    assert.deepEqual(sequences(second.rows), [6]);
    await w.query('ROLLBACK');
    assert.deepEqual((await outbox.readPending(second.cursor, 100)).rows, []);
  });

  it('a row at a lower position that commits after a higher one was read is still returned (no skip)', async () => {
    const [early, late] = [await db.client(), await db.client()];
    await early.query('BEGIN');
    await append(early, 'A-1'); // lower position, commits last
    await append(late, 'A-2'); // higher position, commits first
    const first = await outbox.readPending(undefined, 100);
    assert.deepEqual(
      first.rows.map((r) => r.key),
      ['A-2'],
    );
    await early.query('COMMIT');
    const second = await outbox.readPending(first.cursor, 100);
    assert.deepEqual(
      second.rows.map((r) => r.key),
      ['A-1'],
    );
    assert.ok(second.rows[0]!.position < first.rows[0]!.position, 'the late row has the lower position');
  });
});

interface Appended {
  readonly id: string;
  readonly key: string;
  readonly sequence: number;
}

/**
 * Writers on their own connections, until `until`: short transactions, transactions that sleep while holding
 * a key's sequence row (other writers of that key queue, others commit past them), transactions that take
 * their id early and write late (the Y of the Y/W/X case), and rollbacks. Several keys per transaction in
 * random order also deadlock now and then: PostgreSQL aborts one, which then counts as rolled back.
 */
async function runWriters(count: number, keys: number, until: number) {
  const committed: (Appended & { commitOrder: number })[] = [];
  const rolledBack: Appended[] = [];
  let commits = 0;
  let deadlocks = 0;
  const writer = async () => {
    const c = await db.client();
    // Detect deadlocks sooner than the default 1 s (needs a superuser, as the test server's user is).
    await c.query("SET deadlock_timeout = '100ms'").catch(() => undefined);
    while (Date.now() < until) {
      const r = Math.random();
      const appended: Appended[] = [];
      try {
        await c.query('BEGIN');
        if (r < 0.1) {
          await c.query('SELECT pg_current_xact_id()');
          await c.query('SELECT pg_sleep($1)', [0.03 + Math.random() * 0.25]);
        }
        const n = 1 + randomInt(3);
        for (let j = 0; j < n; j++) {
          appended.push(await append(c, `A-${randomInt(keys)}`));
          if (r >= 0.1 && r < 0.22 && j === 0) {
            await c.query('SELECT pg_sleep($1)', [0.01 + Math.random() * 0.15]);
          }
        }
        if (r >= 0.87) {
          if (Math.random() < 0.5) await c.query('SELECT pg_sleep(0.05)');
          await c.query('ROLLBACK');
          rolledBack.push(...appended);
          continue;
        }
        await c.query('COMMIT');
        const commitOrder = ++commits;
        for (const a of appended) committed.push({ ...a, commitOrder });
      } catch (error) {
        await c.query('ROLLBACK').catch(() => undefined);
        rolledBack.push(...appended);
        if ((error as { code?: string }).code !== '40P01') throw error;
        deadlocks++;
      }
    }
  };
  /** Holds a transaction id open for a while, as an unrelated long transaction (the W) would. */
  const holder = async () => {
    const c = await db.client();
    while (Date.now() < until - 500) {
      await beginWithXid(c);
      await c.query('SELECT pg_sleep(1.2)');
      await c.query('COMMIT');
    }
  };
  await Promise.all([...Array.from({ length: count }, writer), holder()]);
  return { committed, rolledBack, deadlocks };
}

describe('commit order under concurrency', () => {
  it('8 writers, 20 keys, long and rolled-back transactions: every committed event returned exactly once, gap-free in order per key', {
    timeout: 120_000,
  }, async (t) => {
    const WRITERS = 8;
    const KEYS = 20;
    const until = Date.now() + 4000;
    const returned: { id: string; key: string; sequence: number; position: number }[] = [];
    let writersDone = false;
    let reads = 0;
    let retried = 0;
    let committedCount = Number.POSITIVE_INFINITY;

    const reader = async () => {
      let cursor: string | undefined;
      let unacked: OutboxRow[] = [];
      const deadline = () => writersDone && Date.now() > until + 30_000;
      while (!(writersDone && returned.length >= committedCount) && !deadline()) {
        const batch = await outbox.readPending(cursor, 1 + randomInt(60));
        reads++;
        if (batch.rows.length === 0) {
          await outbox.waitForAppend(20);
          continue;
        }
        if (Math.random() < 0.1) {
          retried++; // as if publishing failed: the relay reads again from the same cursor
          continue;
        }
        for (const row of batch.rows) {
          const e = decodeEnvelope(row.value);
          assert.equal(e.subject, row.key);
          assert.equal(e.id, row.id);
          returned.push({ id: row.id, key: row.key, sequence: e.sluiceseq, position: row.position });
        }
        cursor = batch.cursor;
        unacked.push(...batch.rows);
        if (Math.random() < 0.5) {
          await outbox.acknowledge(unacked); // acknowledged late, as the relay does
          unacked = [];
        }
      }
      await outbox.acknowledge(unacked);
    };

    const reading = reader();
    const { committed, rolledBack, deadlocks } = await runWriters(WRITERS, KEYS, until);
    committedCount = committed.length;
    writersDone = true;
    await reading;

    // Exactly once, nothing missing, nothing rolled back.
    const seen = new Map<string, number>();
    for (const r of returned) seen.set(r.id, (seen.get(r.id) ?? 0) + 1);
    const twice = [...seen].filter(([, n]) => n > 1);
    assert.deepEqual(twice, [], 'returned more than once');
    const phantoms = rolledBack.filter((r) => seen.has(r.id));
    assert.deepEqual(phantoms, [], 'rolled-back events were returned');
    const missing = committed.filter((c) => !seen.has(c.id));
    assert.deepEqual(missing, [], 'committed events were never returned');
    assert.equal(returned.length, committed.length);

    // Per key: 1, 2, 3, ... in the order returned, and the same numbers the writers were given.
    const perKey = new Map<string, number[]>();
    for (const r of returned) perKey.set(r.key, [...(perKey.get(r.key) ?? []), r.sequence]);
    for (const [key, seqs] of perKey) {
      assert.deepEqual(
        seqs,
        seqs.map((_, i) => i + 1),
        `key ${key} returned out of order or with a gap`,
      );
    }
    const committedPerKey = new Map<string, number>();
    for (const c of committed) committedPerKey.set(c.key, (committedPerKey.get(c.key) ?? 0) + 1);
    for (const [key, n] of committedPerKey) assert.equal(perKey.get(key)?.length, n, key);

    // The run did produce the hazard: transactions committing after a later position had committed.
    const position = new Map(returned.map((r) => [r.id, r.position]));
    const byCommit = [...committed].sort((a, b) => a.commitOrder - b.commitOrder);
    let maxPosition = 0;
    let lateCommits = 0;
    for (const c of byCommit) {
      const p = position.get(c.id)!;
      if (p < maxPosition) lateCommits++;
      maxPosition = Math.max(maxPosition, p);
    }
    assert.ok(lateCommits > 0, 'no row committed after a higher position: the test proved nothing');
    assert.equal((await outbox.stats()).pending, 0);
    t.diagnostic(
      `${committed.length} committed, ${rolledBack.length} rolled back (${deadlocks} deadlocks), ` +
        `${lateCommits} committed behind a higher position, ${reads} reads, ${retried} re-read batches`,
    );
  });

  it('the relay ships concurrent writers events to the memory transport: none lost, in order per key', {
    timeout: 120_000,
  }, async (t) => {
    const transport = createMemoryTransport();
    const relay = createRelay({
      outbox,
      transport,
      topics: [accounts],
      batchSize: 50,
      idleWaitMs: 200,
      leaseTtlMs: 3000,
      ackIntervalMs: 20,
    }).start();
    const { committed, rolledBack } = await runWriters(6, 12, Date.now() + 3000);
    const deadline = Date.now() + 30_000;
    while ((await outbox.stats()).pending > 0 && Date.now() < deadline) await sleep(50);
    await relay.stop();
    assert.equal((await outbox.stats()).pending, 0, 'the relay did not drain the outbox');

    const records = (await transport.read('accounts', { to: 'earliest' }, 1_000_000)).sort(
      (a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset),
    );
    const ids = records.map((r) => decodeEnvelope(r.value).id);
    assert.equal(new Set(ids).size, ids.length, 'published twice');
    const published = new Set(ids);
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
    const perKey = new Map<string, number[]>();
    for (const r of records)
      perKey.set(r.key, [...(perKey.get(r.key) ?? []), decodeEnvelope(r.value).sluiceseq]);
    for (const [key, seqs] of perKey) {
      assert.deepEqual(
        seqs,
        seqs.map((_, i) => i + 1),
        `key ${key}`,
      );
    }
    t.diagnostic(`${records.length} published by the relay, ${rolledBack.length} rolled back`);
  });
});
