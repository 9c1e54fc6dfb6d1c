import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { DATABASE_UNAVAILABLE, MigrationRequiredError, SluiceError } from '@sluice/core';
import mysql from 'mysql2/promise';
import { migrate } from '../migrations/migrate.js';
import type { SqlExecutor } from '../mysql-client.js';
import { sleep, type TestDatabase, testDatabase } from '../test-database.test-support.js';
import { createMysqlInbox, MysqlInbox } from './mysql-inbox.js';

const EVENT = '0190a5c2-7a1e-7000-8000-000000000001';
const OTHER_EVENT = '0190a5c2-7a1e-7000-8000-000000000002';

let db: TestDatabase;

beforeEach(() => {
  db = testDatabase({ prefix: 'inbox' });
});

afterEach(async () => {
  await db.close();
});

/** A migrated database with a business table the handlers write to. */
async function consumerDb(): Promise<void> {
  await migrate(db.pool, { database: db.database });
  await db.query(
    `CREATE TABLE \`${db.database}\`.seat (course VARCHAR(20) NOT NULL PRIMARY KEY, taken INT NOT NULL) ENGINE=InnoDB`,
  );
}

const takeSeat = (tx: SqlExecutor, course: string | null) =>
  tx.write(
    `INSERT INTO \`${db.database}\`.seat (course, taken) VALUES (?, 1) ON DUPLICATE KEY UPDATE taken = taken + 1`,
    [course],
  );

async function taken(course: string): Promise<number> {
  const rows = await db.query<{ taken: number }>(
    `SELECT taken FROM \`${db.database}\`.seat WHERE course = ?`,
    [course],
  );
  return rows[0]?.taken ?? 0;
}

async function recorded(): Promise<{ g: string; id: string }[]> {
  return db.query(
    `SELECT consumer_group AS g, event_id AS id FROM \`${db.database}\`.sluice_inbox ORDER BY consumer_group, event_id`,
  );
}

describe('MysqlInbox', () => {
  it('a handler that goes on after MySQL rolled its transaction back is not reported applied', async () => {
    await consumerDb();
    const inbox = await createMysqlInbox(db.pool, { database: db.database });
    await assert.rejects(
      inbox.runOnce('g', EVENT, async (tx) => {
        await takeSeat(tx, 'C-1');
        await tx.write('ROLLBACK'); // what InnoDB does to the whole transaction on a deadlock the handler caught
      }),
      (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_INBOX_ROLLED_BACK' && e.retryable,
    );
    assert.deepEqual(await recorded(), [], 'not recorded: the event is retried');
    assert.equal(await taken('C-1'), 0);
    // In a batch the lost savepoint tells: the batch fails as a whole and the consumer runs the events one by one.
    await assert.rejects(
      inbox.runBatch('g', [
        { eventId: OTHER_EVENT, apply: (tx) => takeSeat(tx, 'C-2') },
        {
          eventId: EVENT,
          apply: async (tx) => {
            await tx.write('ROLLBACK');
          },
        },
      ]),
      (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_INBOX_BATCH_FAILED' && e.retryable,
    );
    assert.deepEqual(await recorded(), []);
    assert.equal(await taken('C-2'), 0);
    assert.equal(await inbox.runOnce('g', EVENT, (tx) => takeSeat(tx, 'C-1')), 'applied');
  });

  it('a connection killed while the handler runs: nothing applied, DATABASE_UNAVAILABLE, the process lives on', async () => {
    await consumerDb();
    const inbox = await createMysqlInbox(db.pool, { database: db.database });
    const killed = inbox.runOnce('g', EVENT, async (tx) => {
      await takeSeat(tx, 'C-1');
      const id = (await tx.execute<{ id: number }>('SELECT CONNECTION_ID() AS id'))[0]!.id;
      // The server drops this connection (as a restart would) while the transaction is open.
      const killer = await db.connection();
      await killer.query('KILL ?', [id]);
      await sleep(100);
      await takeSeat(tx, 'C-1');
    });
    await assert.rejects(
      killed,
      (e: unknown) => e instanceof SluiceError && e.code === DATABASE_UNAVAILABLE && e.retryable,
    );
    assert.equal(await taken('C-1'), 0, 'the open transaction died with the connection');
    assert.deepEqual(await recorded(), []);
    assert.equal(await inbox.runOnce('g', EVENT, (tx) => takeSeat(tx, 'C-1')), 'applied');
    assert.equal(await taken('C-1'), 1);
  });

  it('an unreachable server: runOnce and runBatch throw a retryable SLUICE_DATABASE_UNAVAILABLE', async () => {
    const dead = mysql.createPool({ host: '127.0.0.1', port: 1, user: 'x', connectTimeout: 500 });
    try {
      const inbox = new MysqlInbox(dead, 'nowhere');
      const unavailable = (e: unknown) =>
        e instanceof SluiceError && e.code === DATABASE_UNAVAILABLE && e.retryable && /MySQL/.test(e.message);
      await assert.rejects(
        inbox.runOnce('g', EVENT, () => undefined),
        unavailable,
      );
      await assert.rejects(inbox.runBatch('g', [{ eventId: EVENT, apply: () => undefined }]), unavailable);
    } finally {
      await dead.end();
    }
  });

  it('refuses an unmigrated database unless asked to migrate', async () => {
    await assert.rejects(
      createMysqlInbox(db.pool, { database: db.database }),
      (e: unknown) =>
        e instanceof MigrationRequiredError &&
        e.message.includes(`${db.database}.sluice_inbox`) &&
        /run `sluice migrate`/.test(e.message),
    );
    await createMysqlInbox(db.pool, { database: db.database, migrate: true });
    await createMysqlInbox(db.pool, { database: db.database });
  });
});
