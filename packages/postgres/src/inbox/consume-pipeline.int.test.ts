/**
 * The PostgreSQL stores in the whole pipeline: producer transactions append to PostgresOutbox, the core relay
 * ships to the in-memory transport, `consume()` applies each event through PostgresInbox, in the consumer's
 * transaction. Then a replay of the whole topic is skipped by the inbox.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, it } from 'node:test';
import { createConsumer, createRelay } from '@sluice/core';
import { createMemoryTransport } from '@sluice/core/testing';
import { migrate } from '../migrations/migrate.js';
import { createPostgresOutbox } from '../outbox/postgres-outbox.js';
import { fromPg } from '../pg-client.js';
import {
  AccountOpened,
  accounts,
  SOURCE,
  sleep,
  type TestDatabase,
  testDatabase,
} from '../test-database.test-support.js';
import { createPostgresInbox } from './postgres-inbox.js';

let db: TestDatabase;

beforeEach(async () => {
  db = testDatabase({ prefix: 'pipe' });
  await migrate(fromPg(db.pool), db.schema);
  await db.query(
    `CREATE TABLE "${db.schema}".credit (account text PRIMARY KEY, events int NOT NULL, last_seq int NOT NULL)`,
  );
});

afterEach(async () => {
  await db.close();
});

async function until(condition: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

it('outbox -> relay -> memory transport -> createConsumer() with the PostgreSQL inbox: each committed event applied once, in order', {
  timeout: 60_000,
}, async () => {
  const outbox = await createPostgresOutbox(db.pool, { source: SOURCE, schema: db.schema });
  const transport = createMemoryTransport();
  const relay = createRelay({
    outbox,
    transport,
    topics: [accounts],
    idleWaitMs: 200,
    ackIntervalMs: 10,
  }).start();
  const inbox = await createPostgresInbox(db.pool, { schema: db.schema });
  const outcomes = { applied: 0, duplicate: 0 };
  const startConsumer = (replay: boolean) =>
    createConsumer({
      transport,
      group: 'credit',
      inbox,
      ...(replay ? { replay: { to: 'earliest' as const } } : {}),
      handlers: (on) => [
        on(AccountOpened, async (event, { tx }) => {
          // Applied in order per key: the stored last sequence is always the previous one.
          const [row] = await tx.execute<{ last_seq: number }>(
            `INSERT INTO "${db.schema}".credit (account, events, last_seq) VALUES ($1, 1, $2)
             ON CONFLICT (account) DO UPDATE SET events = credit.events + 1, last_seq = excluded.last_seq
             RETURNING last_seq`,
            [event.key, event.sequence],
          );
          assert.equal(row?.last_seq, event.sequence);
        }),
      ],
      onOutcome: (o) => {
        if (o.kind === 'applied' || o.kind === 'duplicate') outcomes[o.kind]++;
      },
    });
  let consumer = startConsumer(false);

  // Producers: committed and rolled-back transactions on 3 connections.
  const committed: string[] = [];
  await Promise.all(
    [0, 1, 2].map(async (w) => {
      const c = await db.client();
      for (let i = 0; i < 20; i++) {
        await c.query('BEGIN');
        const r = await outbox.append(fromPg(c), AccountOpened, {
          accountId: `A-${(w + i) % 5}`,
          owner: 'o',
        });
        if (i % 7 === 3) {
          await c.query('ROLLBACK');
          continue;
        }
        await c.query('COMMIT');
        committed.push(r.id);
      }
    }),
  );
  await until(() => outcomes.applied === committed.length, 'every committed event to be applied');
  const rows = await db.query<{ events: number; last_seq: number }>(
    `SELECT events, last_seq FROM "${db.schema}".credit`,
  );
  assert.equal(
    rows.reduce((n, r) => n + r.events, 0),
    committed.length,
  );
  for (const r of rows) assert.equal(r.events, r.last_seq, 'gap-free sequences from 1');
  const recorded = await db.query<{ id: string }>(`SELECT event_id AS id FROM "${db.schema}".inbox`);
  assert.deepEqual(recorded.map((r) => r.id).sort(), [...committed].sort());

  // Replay the topic from the start: every event is a duplicate for the inbox.
  await consumer.stop();
  consumer = startConsumer(true);
  await until(() => outcomes.duplicate === committed.length, 'the replay to be skipped');
  assert.equal(outcomes.applied, committed.length);
  await consumer.stop();
  await relay.stop();
  await outbox.close();
});
