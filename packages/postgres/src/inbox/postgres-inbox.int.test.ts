import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { DATABASE_UNAVAILABLE, MigrationRequiredError, SluiceError } from '@sluice/core';
import { migrate } from '../migrations/migrate.js';
import { fromPg, type SqlExecutor } from '../pg-client.js';
import { sleep, type TestDatabase, testDatabase } from '../test-database.test-support.js';
import { createPostgresInbox } from './postgres-inbox.js';

const EVENT = '0190a5c2-7a1e-7000-8000-000000000001';
const OTHER_EVENT = '0190a5c2-7a1e-7000-8000-000000000002';

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
  it('runBatch: one transaction; duplicates skipped, a throwing handler undone alone, the rest committed', async () => {
    await consumerDb();
    const inbox = await createPostgresInbox(db.pool, { schema: db.schema });
    assert.equal(await inbox.runOnce('g', EVENT, (tx) => takeSeat(tx, 'C-0')), 'applied');
    const ids = ['0190a5c2-7a1e-7000-8000-00000000000a', '0190a5c2-7a1e-7000-8000-00000000000b'];
    const outcomes = await inbox.runBatch('g', [
      { eventId: ids[0]!, apply: (tx) => takeSeat(tx, 'C-1') },
      { eventId: EVENT, apply: (tx) => takeSeat(tx, 'C-0') }, // applied before: duplicate
      {
        eventId: ids[1]!,
        apply: async (tx) => {
          await takeSeat(tx, 'C-2');
          await tx.execute('SELECT 1/0'); // fails after a write: the write must go too
        },
      },
      { eventId: OTHER_EVENT, apply: (tx) => takeSeat(tx, 'C-3') },
      { eventId: OTHER_EVENT, apply: (tx) => takeSeat(tx, 'C-3') }, // twice in the batch
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['applied', 'duplicate', 'failed', 'applied', 'duplicate'],
    );
    assert.match(String((outcomes[2] as { error: unknown }).error), /division by zero/);
    assert.deepEqual(
      [await taken('C-0'), await taken('C-1'), await taken('C-2'), await taken('C-3')],
      [1, 1, 0, 1],
    );
    assert.deepEqual(
      (await recorded()).map((r) => r.id).sort(),
      [EVENT, OTHER_EVENT, ids[0]!].sort(),
      'the failed event is not recorded: it will be retried',
    );
    assert.equal(await inbox.runOnce('g', ids[1]!, (tx) => takeSeat(tx, 'C-2')), 'applied');
  });
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

  it('applies once, then answers duplicate without calling apply', async () => {
    await consumerDb();
    const inbox = await createPostgresInbox(db.pool, { schema: db.schema });
    let calls = 0;
    const apply = async (tx: SqlExecutor) => {
      calls++;
      await takeSeat(tx, 'C-1');
    };
    assert.equal(await inbox.runOnce('projection', EVENT, apply), 'applied');
    assert.equal(await inbox.runOnce('projection', EVENT, apply), 'duplicate');
    assert.equal(calls, 1);
    assert.equal(await taken('C-1'), 1);
    assert.deepEqual(await recorded(), [{ g: 'projection', id: EVENT }]);
    // Another inbox on the same schema (a restarted consumer) sees the record.
    const again = await createPostgresInbox(db.pool, { schema: db.schema });
    assert.equal(
      await again.runOnce('projection', EVENT, () => assert.fail('apply must not run for a duplicate')),
      'duplicate',
    );
    assert.equal(db.pool.totalCount, db.pool.idleCount, 'every connection went back to the pool');
  });

  it('runs apply inside the transaction: its writes are invisible to others until commit', async () => {
    await consumerDb();
    const inbox = await createPostgresInbox(db.pool, { schema: db.schema });
    let visibleDuringApply: number | undefined;
    let inRecordDuringApply: number | undefined;
    const result = await inbox.runOnce('projection', EVENT, async (tx) => {
      await takeSeat(tx, 'C-1');
      await sleep(10);
      visibleDuringApply = await taken('C-1');
      inRecordDuringApply = (await recorded()).length;
      const [own] = await tx.execute<{ taken: number }>(
        `SELECT taken FROM "${db.schema}".seat WHERE course = 'C-1'`,
      );
      assert.equal(own?.taken, 1, 'the handler sees its own write');
    });
    assert.equal(result, 'applied');
    assert.equal(visibleDuringApply, 0);
    assert.equal(inRecordDuringApply, 0);
    assert.equal(await taken('C-1'), 1);
  });

  it('a throwing apply rolls back its writes and the inbox record, rethrows, and the next runOnce applies', async () => {
    await consumerDb();
    const inbox = await createPostgresInbox(db.pool, { schema: db.schema });
    const failure = new Error('handler failed after writing');
    await assert.rejects(
      inbox.runOnce('projection', EVENT, async (tx) => {
        await takeSeat(tx, 'C-1');
        throw failure;
      }),
      (e: unknown) => e === failure,
    );
    assert.equal(await taken('C-1'), 0);
    assert.deepEqual(await recorded(), []);
    // A handler whose SQL fails: the driver error comes back unchanged, and nothing is kept.
    await assert.rejects(
      inbox.runOnce('projection', EVENT, async (tx) => {
        await takeSeat(tx, 'C-1');
        await tx.execute('SELECT 1/0');
      }),
      (e: unknown) => (e as { code?: string }).code === '22012',
    );
    assert.equal(await taken('C-1'), 0);
    assert.deepEqual(await recorded(), []);

    let calls = 0;
    assert.equal(
      await inbox.runOnce('projection', EVENT, async (tx) => {
        calls++;
        await takeSeat(tx, 'C-1');
      }),
      'applied',
    );
    assert.equal(calls, 1);
    assert.equal(await taken('C-1'), 1);
    assert.equal(db.pool.totalCount, db.pool.idleCount, 'every connection went back to the pool');
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

  it('keeps consumer groups independent', async () => {
    await consumerDb();
    const inbox = await createPostgresInbox(db.pool, { schema: db.schema });
    const applied: string[] = [];
    const apply = (group: string) => async (tx: SqlExecutor) => {
      applied.push(group);
      await takeSeat(tx, group);
    };
    assert.equal(await inbox.runOnce('projection', EVENT, apply('projection')), 'applied');
    assert.equal(await inbox.runOnce('mailer', EVENT, apply('mailer')), 'applied');
    assert.equal(await inbox.runOnce('projection', EVENT, apply('projection')), 'duplicate');
    assert.equal(await inbox.runOnce('mailer', EVENT, apply('mailer')), 'duplicate');
    assert.equal(await inbox.runOnce('mailer', OTHER_EVENT, apply('mailer')), 'applied');
    assert.deepEqual(applied, ['projection', 'mailer', 'mailer']);
    assert.deepEqual(await recorded(), [
      { g: 'mailer', id: EVENT },
      { g: 'mailer', id: OTHER_EVENT },
      { g: 'projection', id: EVENT },
    ]);
  });

  it('the same event run concurrently is applied once: the second waits for the first and is a duplicate', async () => {
    await consumerDb();
    const inbox = await createPostgresInbox(db.pool, { schema: db.schema });
    let calls = 0;
    const apply = async (tx: SqlExecutor) => {
      calls++;
      await takeSeat(tx, 'C-1');
      await sleep(50);
    };
    const results = await Promise.all([
      inbox.runOnce('projection', EVENT, apply),
      inbox.runOnce('projection', EVENT, apply),
      inbox.runOnce('projection', EVENT, apply),
    ]);
    assert.deepEqual([...results].sort(), ['applied', 'duplicate', 'duplicate']);
    assert.equal(calls, 1);
    assert.equal(await taken('C-1'), 1);
  });
});
