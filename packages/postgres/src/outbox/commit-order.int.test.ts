/**
 * Commit-order safety: positions are assigned at insert, but transactions commit in another order. A relay
 * reading `position > last` skips a row whose transaction commits after a later position was read; windows of
 * transactions below the snapshot xmin skip nothing but can return a key's later event first (the Y/W/X case
 * below). These tests drive those interleavings against a real PostgreSQL and check that every committed
 * event is returned exactly once and in sequence order per key.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { decodeEnvelope } from '@sluice/core';
import type { OutboxRow } from '@sluice/core/adapter';
import type pg from 'pg';
import { migrate } from '../migrations/migrate.js';
import { fromPg } from '../pg-client.js';
import {
  AccountOpened,
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
});

// Concurrent writers, the no-skip case and the relay over them: runOutboxStoreConformance
// (postgres-outbox-conformance.int.test.ts).
