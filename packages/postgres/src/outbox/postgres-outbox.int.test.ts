import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { MigrationRequiredError, SluiceError } from '@sluice/core';
import type { OutboxRow } from '@sluice/core/adapter';
import { migrate } from '../migrations/migrate.js';
import { fromPg } from '../pg-client.js';
import {
  AccountAudited,
  AccountOpened,
  SOURCE,
  sleep,
  type TestDatabase,
  testDatabase,
} from '../test-database.test-support.js';
import { createPostgresOutbox, type PostgresOutbox } from './postgres-outbox.js';

let db: TestDatabase;
const opened: PostgresOutbox[] = [];

beforeEach(async () => {
  db = testDatabase({ prefix: 'outbox' });
  await migrate(fromPg(db.pool), db.schema);
  await db.query(`CREATE TABLE "${db.schema}".account (id text PRIMARY KEY, owner text NOT NULL)`);
});

afterEach(async () => {
  for (const o of opened.splice(0)) await o.close();
  await db.close();
});

async function outbox(
  options: { source?: string; pollIntervalMs?: number; keepDeliveredMs?: number } = {},
): Promise<PostgresOutbox> {
  const o = await createPostgresOutbox(db.pool, {
    source: options.source ?? SOURCE,
    schema: db.schema,
    ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
    ...(options.keepDeliveredMs === undefined ? {} : { keepDeliveredMs: options.keepDeliveredMs }),
  });
  opened.push(o);
  return o;
}

async function count(table: string): Promise<number> {
  return (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${db.schema}".${table}`))[0]!.n;
}

const open = (o: PostgresOutbox, tx: ReturnType<typeof fromPg>, id: string, owner = 'Ada') =>
  o.append(tx, AccountOpened, { accountId: id, owner });

/** Reads everything pending, following cursors, without acknowledging. */
async function _readAll(o: PostgresOutbox, limit = 1000): Promise<OutboxRow[]> {
  const rows: OutboxRow[] = [];
  let cursor: string | undefined;
  for (;;) {
    const batch = await o.readPending(cursor, limit);
    if (batch.rows.length === 0) return rows;
    rows.push(...batch.rows);
    cursor = batch.cursor;
  }
}

describe('PostgresOutbox: append in the caller transaction', () => {
  it('append reports MigrationRequiredError when the tables are gone, and rethrows other driver errors', async () => {
    const o = await outbox();
    const app = await db.client();
    await app.query('BEGIN');
    await app.query('SELECT 1/0').catch(() => undefined); // the caller's transaction is now aborted
    await assert.rejects(
      open(o, fromPg(app), 'A-1'),
      (e: unknown) => !(e instanceof SluiceError) && (e as { code?: string }).code === '25P02',
    );
    await app.query('ROLLBACK');
    await db.query(`DROP TABLE "${db.schema}".outbox`);
    await assert.rejects(
      open(o, fromPg(db.pool), 'A-1'),
      (e: unknown) =>
        e instanceof MigrationRequiredError && e.message.includes(`${db.schema}.outbox is missing`),
    );
    await assert.rejects(o.readPending(undefined, 10), MigrationRequiredError);
  });
});

describe('PostgresOutbox: reading, acknowledging, leases, stats', () => {
  it('acknowledge records the highest delivered sequence per key in outbox_delivered', async () => {
    // Acknowledging itself: runOutboxStoreConformance (postgres-outbox-conformance.int.test.ts).
    const o = await outbox();
    const ex = fromPg(db.pool);
    for (let i = 1; i <= 3; i++) await open(o, ex, `A-${i}`);
    await open(o, ex, 'A-1');
    await o.acknowledge((await o.readPending(undefined, 10)).rows);
    assert.equal(await count('outbox'), 0);
    const delivered = await db.query<{ key: string; sequence: string }>(
      `SELECT key, sequence::text AS sequence FROM "${db.schema}".outbox_delivered ORDER BY key`,
    );
    assert.deepEqual(
      delivered.map((d) => [d.key, Number(d.sequence)]),
      [
        ['A-1', 2],
        ['A-2', 1],
        ['A-3', 1],
      ],
    );
  });

  it('listRows pages through the rows of one topic, pending in the outbox and delivered in the archive; listChains its counters', async () => {
    const o = await outbox({ keepDeliveredMs: 60_000 });
    const ex = fromPg(db.pool);
    const appended = [];
    for (const id of ['A-1', 'A-2', 'A-1', 'A-3']) appended.push(await open(o, ex, id));
    await o.append(ex, AccountAudited, { accountId: 'A-1' });
    const batch = await o.readPending(undefined, 10);
    await o.acknowledge([batch.rows[0]!, batch.rows[2]!]);
    const listed = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await o.listRows('accounts', cursor, 2);
      listed.push(...page.rows);
      cursor = page.cursor;
      pages++;
    } while (cursor !== undefined);
    assert.deepEqual(
      listed.map((r) => [r.id, r.source, r.key, r.sequence, r.delivered]),
      appended.map((a, i) => [a.id, SOURCE, a.key, a.sequence, i === 0 || i === 2]),
    );
    assert.equal(pages, 3, 'two full pages, then an empty one');
    for (let i = 1; i < listed.length; i++) assert.ok(listed[i]!.position > listed[i - 1]!.position);
    assert.deepEqual(
      (await o.listRows('account-audit', undefined, 10)).rows.map((r) => [r.key, r.delivered]),
      [['A-1', false]],
    );
    const first = await o.listChains('accounts', undefined, 2);
    const rest = await o.listChains('accounts', first.cursor, 2);
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

  it('holds back a row whose earlier sequence is not visible yet, and releases both in order once it is', async () => {
    // Appends make this impossible (a key's appends commit in sequence order); rows written by hand show the
    // gate itself: sequence 2 of A-9 without 1 is held back, across reads, until 1 arrives.
    const o = await outbox();
    const ex = fromPg(db.pool);
    const insert = (seq: number, key = 'A-9') =>
      db.query(
        `INSERT INTO "${db.schema}".outbox (id, source, topic, key, type, sequence, value)
         VALUES (gen_random_uuid(), $1, 'accounts', $2, 'account.opened', $3, $4)`,
        [SOURCE, key, seq, `{"seq":${seq}}`],
      );
    await insert(2);
    await open(o, ex, 'A-1');
    const b1 = await o.readPending(undefined, 10);
    assert.deepEqual(
      b1.rows.map((r) => r.key),
      ['A-1'],
      'A-9 #2 must wait for #1',
    );
    assert.deepEqual((await o.readPending(b1.cursor, 10)).rows, [], 'still waiting');
    await insert(3);
    assert.deepEqual((await o.readPending(b1.cursor, 10)).rows, [], '#3 waits behind #2');
    await insert(1);
    const b2 = await o.readPending(b1.cursor, 10);
    assert.deepEqual(
      b2.rows.map((r) => r.value),
      ['{"seq":1}', '{"seq":2}', '{"seq":3}'],
    );
    // A retried read from the older cursor releases them again (the relay had not published them).
    assert.deepEqual(
      (await o.readPending(b1.cursor, 10)).rows.map((r) => r.value),
      ['{"seq":1}', '{"seq":2}', '{"seq":3}'],
    );
    // With a page of 2 the rest waits for the next read, still in order.
    const p1 = await o.readPending(b1.cursor, 2);
    const p2 = await o.readPending(p1.cursor, 2);
    assert.deepEqual(
      [...p1.rows, ...p2.rows].map((r) => r.value),
      ['{"seq":1}', '{"seq":2}', '{"seq":3}'],
    );
    await o.acknowledge([...b1.rows, ...b2.rows]);
    // After acknowledging, the next sequence follows the delivered one (a new chain of reads).
    await insert(5);
    assert.deepEqual((await o.readPending(undefined, 10)).rows, [], '#5 waits for #4');
    await insert(4);
    assert.deepEqual(
      (await o.readPending(undefined, 10)).rows.map((r) => r.value),
      ['{"seq":4}', '{"seq":5}'],
    );
  });

  it('partition leases: one owner takes all 16, a second gets an even share, none is held twice', async () => {
    const a = await outbox();
    const b = await outbox();
    const all = Array.from({ length: 16 }, (_, i) => i);
    assert.deepEqual(await a.acquireLease('relay-a', 10_000), { partitions: all, partitionCount: 16 });
    assert.deepEqual((await a.acquireLease('relay-a', 10_000)).partitions, all, 'the holder renews');
    assert.deepEqual((await b.acquireLease('relay-b', 10_000)).partitions, [], 'all taken: b waits');
    // a sees two live members at its next renewal and gives up the half over its share; b takes them.
    assert.deepEqual((await a.acquireLease('relay-a', 10_000)).partitions, all.slice(0, 8));
    assert.deepEqual((await b.acquireLease('relay-b', 10_000)).partitions, all.slice(8));
    assert.deepEqual((await a.acquireLease('relay-a', 10_000)).partitions, all.slice(0, 8), 'stable');
    // Released: the other takes every partition at its next renewal.
    await a.releaseLease('relay-a');
    assert.deepEqual((await b.acquireLease('relay-b', 10_000)).partitions, all);
  });

  it('readPending(cursor, limit, partitions) returns only the keys of those partitions', async () => {
    const o = await outbox();
    const ex = fromPg(db.pool);
    for (let i = 0; i < 60; i++) await open(o, ex, `A-${i}`);
    const seen = new Map<string, number>();
    for (let p = 0; p < 16; p++) {
      const rows = (await o.readPending(undefined, 1000, [p])).rows;
      for (const r of rows) {
        assert.equal(seen.has(r.key), false, `${r.key} in two partitions`);
        seen.set(r.key, p);
      }
    }
    assert.equal(seen.size, 60, 'every key in exactly one partition');
    assert.ok(new Set(seen.values()).size >= 8, 'keys spread over the partitions');
    const two = (await o.readPending(undefined, 1000, [0, 1])).rows.map((r) => r.key).sort();
    assert.deepEqual(
      two,
      [...seen]
        .filter(([, p]) => p <= 1)
        .map(([k]) => k)
        .sort(),
    );
  });

  it('close() leaves the caller pool open', async () => {
    const o = await outbox();
    await o.waitForAppend(1000); // opens the listening connection
    await o.close();
    await o.close();
    assert.equal((await db.query<{ one: number }>('SELECT 1 AS one'))[0]!.one, 1);
    const start = performance.now();
    await o.waitForAppend(5000);
    assert.ok(performance.now() - start < 50, 'a closed outbox does not wait');
  });
});

describe('PostgresOutbox: waitForAppend', () => {
  /**
   * Waits until the listening connection is up: the first wait announces the relay to appenders and returns
   * at once (so it reads again); the second returns when the connection listens.
   */
  async function listening(o: PostgresOutbox): Promise<void> {
    const start = performance.now();
    await o.waitForAppend(2000);
    await o.waitForAppend(2000);
    assert.ok(performance.now() - start < 1000, 'the first waits return once listening');
  }

  it('append notifies only while a relay waits (a NOTIFY serializes concurrent commits)', async () => {
    const producer = await outbox();
    const listener = await db.client();
    const heard: string[] = [];
    (listener as unknown as { on(e: 'notification', f: (m: { channel: string }) => void): void }).on(
      'notification',
      (m) => heard.push(m.channel),
    );
    await listener.query(`LISTEN "${db.schema}_outbox"`);
    await open(producer, fromPg(db.pool), 'A-1');
    await sleep(100);
    assert.deepEqual(heard, [], 'no relay waits: no notification');
    const relay = await outbox({ pollIntervalMs: 60_000 });
    await relay.waitForAppend(1000); // announces itself and returns at once: read again before sleeping
    await open(producer, fromPg(db.pool), 'A-2');
    await sleep(100);
    assert.deepEqual(heard, [`${db.schema}_outbox`], 'a relay waits: notified on commit');
  });

  it('an append that raced the announcement is found by the first polls within milliseconds', async () => {
    const relay = await outbox({ pollIntervalMs: 60_000 }); // only the fast polls after announcing
    const producer = await outbox();
    const app = await db.client();
    await app.query('BEGIN');
    await open(producer, fromPg(app), 'A-1'); // checked for waiting relays before there was one
    await relay.waitForAppend(5000); // announces, returns at once; the relay reads: nothing committed yet
    const waited = relay.waitForAppend(5000).then(() => performance.now());
    await sleep(20);
    const committed = performance.now();
    await app.query('COMMIT'); // no NOTIFY was queued by this transaction
    const woke = await waited;
    assert.ok(woke - committed < 100, `woke ${(woke - committed).toFixed(1)} ms after the commit`);
  });

  it('wakes within 100 ms after another connection commits an append (NOTIFY), not on rollback', async () => {
    const relay = await outbox({ pollIntervalMs: 60_000 }); // no polling: only the notification can wake it
    const producer = await outbox();
    await listening(relay);
    const app = await db.client();
    for (let i = 0; i < 3; i++) {
      const waited = relay.waitForAppend(5000).then(() => performance.now());
      await app.query('BEGIN');
      await open(producer, fromPg(app), 'A-1');
      await sleep(30); // appended but not committed: no wake-up yet
      const committed = performance.now();
      await app.query('COMMIT');
      const woke = await waited;
      assert.ok(woke >= committed, 'woke before the commit');
      assert.ok(woke - committed < 100, `woke ${(woke - committed).toFixed(1)} ms after the commit`);
    }
    // A rolled-back append notifies nobody.
    const start = performance.now();
    const waited = relay.waitForAppend(400).then(() => performance.now());
    await app.query('BEGIN');
    await open(producer, fromPg(app), 'A-2');
    await app.query('ROLLBACK');
    assert.ok((await waited) - start >= 380, 'woken by a rollback');
  });

  it('a commit while nobody waits makes the next wait return at once', async () => {
    const relay = await outbox({ pollIntervalMs: 60_000 });
    await listening(relay);
    await open(await outbox(), fromPg(db.pool), 'A-1');
    await sleep(50); // the notification arrives while the relay is busy elsewhere
    const start = performance.now();
    await relay.waitForAppend(5000);
    assert.ok(performance.now() - start < 50);
  });

  it('the poll fallback wakes within 100 ms after a commit that sent no notification', async () => {
    const relay = await outbox({ pollIntervalMs: 30 });
    await listening(relay);
    await relay.waitForAppend(100); // let the poll take its first snapshot
    const waited = relay.waitForAppend(5000).then(() => performance.now());
    await sleep(50);
    const committed = performance.now();
    await db.query(
      `INSERT INTO "${db.schema}".outbox (id, source, topic, key, type, sequence, value)
       VALUES (gen_random_uuid(), $1, 'accounts', 'A-1', 'account.opened', 1, NULL)`,
      [SOURCE],
    );
    const woke = await waited;
    assert.ok(woke >= committed - 1, 'woke before the commit');
    assert.ok(woke - committed < 100, `woke ${(woke - committed).toFixed(1)} ms after the commit`);
  });

  it('re-opens the listening connection when it is lost', async () => {
    const relay = await outbox({ pollIntervalMs: 60_000 });
    await listening(relay);
    const channel = `${db.schema}_outbox`;
    const killed = await db.query<{ ok: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE query = $1`,
      [`LISTEN "${channel}"`],
    );
    assert.deepEqual(
      killed.map((k) => k.ok),
      [true],
    );
    // Waiters are woken when it listens again (notifications may have been missed meanwhile).
    const start = performance.now();
    await relay.waitForAppend(5000);
    assert.ok(performance.now() - start < 2000, 'not woken after reconnecting');
    const waited = relay.waitForAppend(5000).then(() => performance.now());
    await sleep(20);
    const committed = performance.now();
    await open(await outbox(), fromPg(db.pool), 'A-1');
    const woke = await waited;
    assert.ok(woke - committed < 100, `woke ${(woke - committed).toFixed(1)} ms after the commit`);
  });
});
