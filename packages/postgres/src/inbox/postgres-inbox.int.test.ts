import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { DATABASE_UNAVAILABLE, MigrationRequiredError, SluiceError } from '@sluice/core';
import { migrate } from '../migrations/migrate.js';
import { fromPg, type SqlExecutor } from '../pg-client.js';
import { sleep, type TestDatabase, testDatabase } from '../test-database.test-support.js';
import { createPostgresInbox } from './postgres-inbox.js';

const EVENT = '0190a5c2-7a1e-7000-8000-000000000001';

let db: TestDatabase;

beforeEach(async () => {
  db = testDatabase({ prefix: 'inbox' });
});

afterEach(async () => {
  await db.close();
});

/** A migrated schema with a business table the handlers write to. */
async function consumerDb(): Promise<void> {
  await migrate(fromPg(db.pool), db.schema);
  await db.query(`CREATE TABLE "${db.schema}".seat (course text PRIMARY KEY, taken int NOT NULL)`);
}

const takeSeat = (tx: SqlExecutor, course: string) =>
  tx.execute(
    `INSERT INTO "${db.schema}".seat (course, taken) VALUES ($1, 1)
     ON CONFLICT (course) DO UPDATE SET taken = seat.taken + 1`,
    [course],
  );

async function taken(course: string): Promise<number> {
  const rows = await db.query<{ taken: number }>(`SELECT taken FROM "${db.schema}".seat WHERE course = $1`, [
    course,
  ]);
  return rows[0]?.taken ?? 0;
}

async function recorded(): Promise<{ g: string; id: string }[]> {
  return db.query(`SELECT consumer_group AS g, event_id AS id FROM "${db.schema}".inbox ORDER BY 1, 2`);
}

describe('PostgresInbox', () => {
  it('a connection killed while the handler runs: nothing applied, DATABASE_UNAVAILABLE, the process lives on', async () => {
    await consumerDb();
    const inbox = await createPostgresInbox(db.pool, { schema: db.schema });
    const killed = inbox.runOnce('g', EVENT, async (tx) => {
      await takeSeat(tx, 'C-1');
      const pid = (await tx.execute<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0]!.pid;
      // The server drops this connection (as a restart would) while the transaction is open.
      await db.query('SELECT pg_terminate_backend($1)', [pid]);
      await sleep(100);
      await takeSeat(tx, 'C-1');
    });
    await assert.rejects(
      killed,
      (e: unknown) => e instanceof SluiceError && e.code === DATABASE_UNAVAILABLE && e.retryable,
    );
    assert.equal(await taken('C-1'), 0, 'the open transaction died with the connection');
    assert.deepEqual(await recorded(), []);
    // The pool replaced the dead connection; the retry applies once.
    assert.equal(await inbox.runOnce('g', EVENT, (tx) => takeSeat(tx, 'C-1')), 'applied');
    assert.equal(await taken('C-1'), 1);
  });
  it('refuses an unmigrated schema unless asked to migrate', async () => {
    await assert.rejects(
      createPostgresInbox(db.pool, { schema: db.schema }),
      (e: unknown) =>
        e instanceof MigrationRequiredError &&
        e.message.includes(`${db.schema}.inbox`) &&
        /run `sluice migrate`/.test(e.message),
    );
    await createPostgresInbox(db.pool, { schema: db.schema, migrate: true });
    await createPostgresInbox(db.pool, { schema: db.schema });
  });

  it('a handler that swallows a failed statement is not reported applied (PostgreSQL rolled it back)', async () => {
    await consumerDb();
    const inbox = await createPostgresInbox(db.pool, { schema: db.schema });
    await assert.rejects(
      inbox.runOnce('projection', EVENT, async (tx) => {
        await takeSeat(tx, 'C-1');
        await tx.execute('SELECT 1/0').catch(() => undefined);
      }),
      (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_INBOX_ROLLED_BACK' && e.retryable,
    );
    assert.equal(await taken('C-1'), 0);
    assert.deepEqual(await recorded(), []);
    assert.equal(await inbox.runOnce('projection', EVENT, (tx) => takeSeat(tx, 'C-1')), 'applied');
  });
});
