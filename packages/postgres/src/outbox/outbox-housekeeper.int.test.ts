import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { OutboxRow } from '@sluice/core/adapter';
import { migrate } from '../migrations/migrate.js';
import { fromPg } from '../pg-client.js';
import {
  AccountOpened,
  ownTestDatabase,
  SOURCE,
  sleep,
  type TestDatabase,
  testDatabase,
} from '../test-database.test-support.js';
import { createPostgresOutbox, type PostgresOutbox } from './postgres-outbox.js';

let db: TestDatabase;
const opened: PostgresOutbox[] = [];

beforeEach(async () => {
  db = testDatabase({ prefix: 'housekeeping' });
  await migrate(fromPg(db.pool), db.schema);
});

afterEach(async () => {
  for (const o of opened.splice(0)) await o.close();
  await db.close();
});

async function outbox(options: {
  keepDeliveredMs?: number;
  housekeepingBatchSize?: number;
  vacuumEveryRows?: number;
}): Promise<PostgresOutbox> {
  const o = await createPostgresOutbox(db.pool, {
    source: SOURCE,
    schema: db.schema,
    housekeepingIntervalMs: 60_000, // rounds run when the test asks
    ...options,
  });
  opened.push(o);
  return o;
}

const count = async (table: string) =>
  (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${db.schema}".${table}`))[0]!.n;

/** Reads and acknowledges everything pending. */
async function drain(o: PostgresOutbox): Promise<number> {
  let cursor: string | undefined;
  let n = 0;
  for (;;) {
    const batch = await o.readPending(cursor, 2000);
    if (batch.rows.length === 0) return n;
    await o.acknowledge(batch.rows as OutboxRow[]);
    n += batch.rows.length;
    cursor = batch.cursor;
  }
}

describe('PostgresOutbox housekeeping', () => {
  it('keeps delivered events for keepDeliveredMs in the archive, then deletes them in batches', async () => {
    const o = await outbox({ keepDeliveredMs: 300, housekeepingBatchSize: 7 });
    const ex = fromPg(db.pool);
    for (let i = 0; i < 30; i++) await o.append(ex, AccountOpened, { accountId: `A-${i}`, owner: 'Ada' });
    assert.equal(await drain(o), 30);
    assert.equal(await count('outbox'), 0, 'delivered rows leave the outbox');
    assert.equal(await count('outbox_archive'), 30, 'and are kept for audit');
    const archived = await db.query<{ id: string; value: string }>(
      `SELECT id::text, value FROM "${db.schema}".outbox_archive ORDER BY position LIMIT 1`,
    );
    assert.match(archived[0]!.value, /"type":"account\.opened"/, 'the whole envelope is kept');
    assert.deepEqual(await o.housekeep(), { archivedDeleted: 0, vacuumed: false }, 'not old enough yet');
    await sleep(350);
    assert.deepEqual(await o.housekeep(), { archivedDeleted: 30, vacuumed: false });
    assert.equal(await count('outbox_archive'), 0);
  });

  it('without keepDeliveredMs, delivered rows are deleted at once and nothing is archived', async () => {
    const o = await outbox({});
    const ex = fromPg(db.pool);
    for (let i = 0; i < 5; i++) await o.append(ex, AccountOpened, { accountId: `A-${i}`, owner: 'Ada' });
    assert.equal(await drain(o), 5);
    assert.equal(await count('outbox'), 0);
    assert.equal(await count('outbox_archive'), 0);
  });

  it('keeps the outbox table from bloating under sustained insert/deliver churn (vacuum every N rows)', async () => {
    // In a database of its own: a transaction of a test running beside this one would keep VACUUM from
    // removing the dead rows of this database's tables. The size measured is the table's (heap and TOAST):
    // emptied B-tree pages are recycled only once no transaction in the whole cluster is older, which no
    // database of its own can ensure while other tests run.
    await db.close();
    db = await ownTestDatabase({ prefix: 'housekeeping' });
    await migrate(fromPg(db.pool), db.schema);
    const o = await outbox({ vacuumEveryRows: 5000 });
    const size = async () =>
      (
        await db.query<{ b: string }>('SELECT pg_table_size($1::regclass)::text AS b', [
          `"${db.schema}".outbox`,
        ])
      )[0]!.b;
    const sizes: number[] = [];
    let vacuums = 0;
    for (let round = 0; round < 8; round++) {
      // 5,000 events as the relay would see them (inserted in bulk: the churn is what is measured).
      await db.query(
        `INSERT INTO "${db.schema}".outbox (id, source, topic, key, type, sequence, value)
         SELECT gen_random_uuid(), $1, 'accounts', 'A-' || ($2 * 5000 + i), 'account.opened', 1, repeat('x', 300)
         FROM generate_series(1, 5000) i`,
        [SOURCE, round],
      );
      assert.equal(await drain(o), 5000);
      if ((await o.housekeep()).vacuumed) vacuums++;
      sizes.push(Number(await size()));
    }
    console.log(`outbox size per round (kB): ${sizes.map((b) => Math.round(b / 1024)).join(', ')}`);
    assert.equal(vacuums, 8, 'vacuumed after every 5,000 deletions');
    // Without vacuuming, every round adds 5,000 dead rows' pages: the table would end ~8x its first size.
    assert.ok(sizes[7]! <= 2.5 * sizes[0]!, `the table grew from ${sizes[0]} to ${sizes[7]} bytes`);
  });
});
