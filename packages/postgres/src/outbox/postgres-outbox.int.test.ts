import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ContractViolationError, decodeEnvelope, MigrationRequiredError, SluiceError } from '@sluice/core';
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
async function readAll(o: PostgresOutbox, limit = 1000): Promise<OutboxRow[]> {
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
  it('writes the full envelope in one statement and returns id, key and sequence', async () => {
    const o = await outbox();
    const r = await o.append(
      fromPg(db.pool),
      AccountOpened,
      { accountId: 'A-7', owner: 'Grace "G" Hopper \u2603 \\n' },
      { correlationid: 'op-1', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    );
    assert.equal(r.key, 'A-7');
    assert.equal(r.sequence, 1);
    const rows = await readAll(o);
    assert.equal(rows.length, 1);
    const row = rows[0]!;
    assert.equal(row.id, r.id);
    assert.equal(row.topic, 'accounts');
    assert.equal(row.key, 'A-7');
    const e = decodeEnvelope(row.value);
    assert.equal(e.id, r.id);
    assert.equal(e.source, SOURCE);
    assert.equal(e.type, 'account.opened');
    assert.equal(e.subject, 'A-7');
    assert.equal(e.sluiceseq, 1);
    assert.equal(e.dataschema, AccountOpened.dataschema);
    assert.equal(e.correlationid, 'op-1');
    assert.equal(e.causationid, undefined);
    assert.deepEqual(e.data, { accountId: 'A-7', owner: 'Grace "G" Hopper \u2603 \\n', credit: 0 });
    const [stored] = await db.query<{ txid: string; sequence: string; source: string; type: string }>(
      `SELECT txid::text AS txid, sequence::text AS sequence, source, type FROM "${db.schema}".outbox`,
    );
    assert.match(stored!.txid, /^\d+$/);
    assert.deepEqual(
      { ...stored, txid: undefined },
      {
        txid: undefined,
        sequence: '1',
        source: SOURCE,
        type: 'account.opened',
      },
    );
  });

  it('is invisible to another connection before commit, and a rollback leaves no row and no used sequence', async () => {
    const o = await outbox();
    const app = await db.client();
    const tx = fromPg(app);

    await app.query('BEGIN');
    await app.query(`INSERT INTO "${db.schema}".account VALUES ('A-1', 'Ada')`);
    const r1 = await open(o, tx, 'A-1');
    assert.equal(r1.sequence, 1);
    assert.deepEqual(await readAll(o), [], 'the relay must not see an uncommitted row');
    assert.equal((await o.stats()).pending, 0);
    await app.query('ROLLBACK');
    assert.equal(await count('account'), 0);
    assert.equal(await count('outbox'), 0);
    assert.equal(await count('outbox_sequence'), 0);
    assert.deepEqual(await readAll(o), []);

    // The same key again: sequence 1, the rolled-back number was not consumed.
    await app.query('BEGIN');
    const r2 = await open(o, tx, 'A-1');
    assert.equal(r2.sequence, 1);
    assert.deepEqual(await readAll(o), []);
    await app.query('COMMIT');
    assert.deepEqual(
      (await readAll(o)).map((r) => r.id),
      [r2.id],
    );
    // A rollback between two commits of a key leaves no gap either.
    await app.query('BEGIN');
    assert.equal((await open(o, tx, 'A-1')).sequence, 2);
    await app.query('ROLLBACK');
    await app.query('BEGIN');
    assert.equal((await open(o, tx, 'A-1')).sequence, 2);
    await app.query('COMMIT');
    assert.deepEqual(
      (await readAll(o)).map((r) => decodeEnvelope(r.value).sluiceseq),
      [1, 2],
    );
  });

  it('numbers events 1, 2, 3 per (source, topic, key), without gaps, independently', async () => {
    const o = await outbox();
    const other = await outbox({ source: 'urn:service:other' });
    const ex = fromPg(db.pool);
    assert.equal((await open(o, ex, 'A-1')).sequence, 1);
    assert.equal((await open(o, ex, 'A-2')).sequence, 1);
    assert.equal((await open(o, ex, 'A-1')).sequence, 2);
    // Several appends in one transaction get consecutive numbers.
    const app = await db.client();
    await app.query('BEGIN');
    const inOne = [
      (await open(o, fromPg(app), 'A-1')).sequence,
      (await open(o, fromPg(app), 'A-2')).sequence,
      (await open(o, fromPg(app), 'A-1')).sequence,
    ];
    await app.query('COMMIT');
    assert.deepEqual(inOne, [3, 2, 4]);
    // Another topic, another source: their own sequences.
    assert.equal((await o.append(ex, AccountAudited, { accountId: 'A-1' })).sequence, 1);
    assert.equal((await open(other, ex, 'A-1')).sequence, 1);
    assert.equal((await open(o, ex, 'A-1')).sequence, 5);

    const bySubject = new Map<string, number[]>();
    for (const row of await readAll(o)) {
      const e = decodeEnvelope(row.value);
      const k = `${e.source}|${row.topic}|${e.subject}`;
      bySubject.set(k, [...(bySubject.get(k) ?? []), e.sluiceseq]);
    }
    assert.deepEqual(Object.fromEntries(bySubject), {
      'urn:service:accounts|accounts|A-1': [1, 2, 3, 4, 5],
      'urn:service:accounts|accounts|A-2': [1, 2],
      'urn:service:accounts|account-audit|A-1': [1],
      'urn:service:other|accounts|A-1': [1],
    });
  });

  it('an invalid event throws ContractViolationError before any SQL: nothing written, the transaction goes on', async () => {
    const o = await outbox();
    const app = await db.client();
    await app.query('BEGIN');
    await app.query(`INSERT INTO "${db.schema}".account VALUES ('A-1', 'Ada')`);
    await assert.rejects(
      o.append(fromPg(app), AccountOpened, { accountId: 'A-1', owner: '' }),
      (e: unknown) => {
        assert.ok(e instanceof ContractViolationError, String(e));
        assert.equal(e.code, 'SLUICE_CONTRACT_VIOLATION');
        assert.equal(e.eventType, 'account.opened');
        assert.ok(e.issues.some((i) => i.path === 'owner'));
        assert.match(e.message, /Nothing was written/);
        return true;
      },
    );
    await assert.rejects(
      o.append(fromPg(app), AccountOpened, { accountId: 'not-an-account', owner: 'x' }),
      ContractViolationError,
    );
    // The caller's transaction is not aborted by the refusal: it can still commit its own work.
    await app.query('COMMIT');
    assert.equal(await count('account'), 1);
    assert.equal(await count('outbox'), 0);
    assert.equal(await count('outbox_sequence'), 0);
  });

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
  it('pages by limit, in order, and a re-read with the same cursor returns the same rows', async () => {
    const o = await outbox();
    const ex = fromPg(db.pool);
    for (let i = 1; i <= 7; i++) await open(o, ex, `A-${i % 3}`);
    const first = await o.readPending(undefined, 3);
    assert.equal(first.rows.length, 3);
    const again = await o.readPending(undefined, 3);
    assert.deepEqual(again.rows, first.rows, 'from the start again: the same rows');
    const second = await o.readPending(first.cursor, 3);
    const retried = await o.readPending(first.cursor, 3);
    assert.deepEqual(retried.rows, second.rows, 'a relay retrying a failed batch gets it again');
    const third = await o.readPending(second.cursor, 3);
    assert.equal(third.rows.length, 1);
    assert.deepEqual((await o.readPending(third.cursor, 3)).rows, []);
    const all = [...first.rows, ...second.rows, ...third.rows];
    assert.deepEqual(
      all.map((r) => r.position),
      [...all.map((r) => r.position)].sort((a, b) => a - b),
    );
    assert.equal(new Set(all.map((r) => r.id)).size, 7);

    // A cursor this store does not know (another process, or forgotten): start again from every pending row.
    assert.equal((await o.readPending('someone-else.1', 100)).rows.length, 7);
  });

  it('acknowledge deletes rows and records the highest delivered sequence per key; idempotent', async () => {
    const o = await outbox();
    const ex = fromPg(db.pool);
    for (let i = 1; i <= 5; i++) await open(o, ex, `A-${i}`);
    await open(o, ex, 'A-1');
    const batch = await o.readPending(undefined, 10);
    assert.equal(batch.rows.length, 6);
    await o.acknowledge([batch.rows[1]!, batch.rows[3]!]);
    assert.deepEqual(
      (await readAll(o)).map((r) => r.key),
      ['A-1', 'A-3', 'A-5', 'A-1'],
    );
    await o.acknowledge([batch.rows[1]!, batch.rows[3]!]);
    await o.acknowledge([]);
    assert.equal(await count('outbox'), 4);
    await o.acknowledge(batch.rows);
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
        ['A-4', 1],
        ['A-5', 1],
      ],
    );
    // The relay keeps its cursor: a new row comes after it.
    await open(o, ex, 'A-6');
    assert.deepEqual(
      (await o.readPending(batch.cursor, 10)).rows.map((r) => r.key),
      ['A-6'],
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

  it('readPending(undefined) starts again from every pending row, acknowledged ones excepted', async () => {
    const o = await outbox();
    const ex = fromPg(db.pool);
    for (let i = 1; i <= 4; i++) await open(o, ex, 'A-1');
    const first = await o.readPending(undefined, 2);
    const second = await o.readPending(first.cursor, 2);
    assert.equal(second.rows.length, 2);
    await o.acknowledge(first.rows);
    // Published (second) but not acknowledged: a restarted relay gets them again, in order.
    assert.deepEqual(
      (await o.readPending(undefined, 10)).rows.map((r) => decodeEnvelope(r.value).sluiceseq),
      [3, 4],
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

  it('partition leases: a dead owner loses its partitions at expiry, a survivor takes them over', async () => {
    const a = await outbox();
    const b = await outbox();
    await a.acquireLease('relay-a', 300);
    await b.acquireLease('relay-b', 300);
    assert.equal((await a.acquireLease('relay-a', 300)).partitions.length, 8);
    assert.equal((await b.acquireLease('relay-b', 300)).partitions.length, 8);
    // a stops renewing (killed). Before expiry b cannot take a's partitions.
    assert.equal((await b.acquireLease('relay-b', 300)).partitions.length, 8);
    await sleep(350);
    assert.equal((await b.acquireLease('relay-b', 300)).partitions.length, 16, 'taken over after expiry');
    assert.deepEqual((await a.acquireLease('relay-a', 300)).partitions, [], 'the old owner lost them');
  });

  it('partition leases: concurrent owners end with disjoint, even shares covering every partition', async () => {
    const stores = await Promise.all([outbox(), outbox(), outbox(), outbox()]);
    const owners = stores.map((_, i) => `relay-${i}`);
    let last: (readonly number[])[] = [];
    for (let round = 0; round < 4; round++) {
      last = (await Promise.all(stores.map((o, i) => o.acquireLease(owners[i]!, 10_000)))).map(
        (l) => l.partitions,
      );
    }
    const held = last.flat().sort((x, y) => x - y);
    assert.deepEqual(
      held,
      Array.from({ length: 16 }, (_, i) => i),
      `shares: ${JSON.stringify(last)}`,
    );
    assert.deepEqual(
      last.map((p) => p.length),
      [4, 4, 4, 4],
    );
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

  it('stats() reports committed pending rows and the age of the oldest, per partition with its owner', async () => {
    const o = await outbox();
    const ex = fromPg(db.pool);
    const empty = await o.stats();
    assert.equal(empty.pending, 0);
    assert.equal(empty.oldestPendingAgeMs, null);
    assert.equal(empty.partitions.length, 16);
    assert.ok(empty.partitions.every((p) => p.owner === null && p.pending === 0));
    await open(o, ex, 'A-1');
    await sleep(80);
    await open(o, ex, 'A-2');
    await o.acquireLease('relay-a', 10_000);
    const s = await o.stats();
    assert.equal(s.pending, 2);
    assert.ok(
      s.oldestPendingAgeMs !== null && s.oldestPendingAgeMs >= 70 && s.oldestPendingAgeMs < 5000,
      String(s.oldestPendingAgeMs),
    );
    assert.equal(
      s.partitions.reduce((n, p) => n + p.pending, 0),
      2,
    );
    assert.ok(s.partitions.every((p) => p.owner === 'relay-a'));
    assert.ok(s.partitions.every((p) => p.leaseExpiresInMs !== null && p.leaseExpiresInMs > 5000));
    const a1 = (await o.readPending(undefined, 1)).rows;
    const partitionOfA1 = s.partitions.find((p) => p.pending > 0 && p.oldestPendingAgeMs! >= 70)!.partition;
    assert.equal((await o.readPending(undefined, 10, [partitionOfA1])).rows[0]?.key, a1[0]!.key);
    await o.acknowledge(a1);
    const after = await o.stats();
    assert.equal(after.pending, 1);
    assert.ok(
      after.oldestPendingAgeMs !== null && after.oldestPendingAgeMs < 70,
      String(after.oldestPendingAgeMs),
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

  it('resolves after the timeout when nothing is appended, and at once on abort', async () => {
    const relay = await outbox({ pollIntervalMs: 20 });
    await listening(relay);
    let start = performance.now();
    await relay.waitForAppend(150);
    let elapsed = performance.now() - start;
    assert.ok(elapsed >= 140 && elapsed < 1000, `timeout after ${elapsed.toFixed(1)} ms`);

    const controller = new AbortController();
    start = performance.now();
    setTimeout(() => controller.abort(), 20);
    await relay.waitForAppend(10_000, controller.signal);
    elapsed = performance.now() - start;
    assert.ok(elapsed < 500, `abort took ${elapsed.toFixed(1)} ms`);

    start = performance.now();
    await relay.waitForAppend(10_000, AbortSignal.abort());
    assert.ok(performance.now() - start < 50);
  });
});
