import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type ChangeMapping,
  createChangeOutbox,
  createRelay,
  decodeEnvelope,
  defineEvent,
  defineKey,
  defineTopic,
  mapped,
  type RowChange,
  SluiceError,
  type Transport,
} from '@sluice/core';
import { createMemoryTransport } from '@sluice/core/testing';
import { z } from 'zod';
import { sleep, type TestDatabase, testDatabase, testUrl } from '../test-database.test-support.js';
import { createChangeCapture, dropChangeCapture } from './change-capture-setup.js';
import { PostgresChangeSource } from './postgres-change-source.js';

const CourseId = defineKey('courseId', z.string().regex(/^course-\d+$/), { description: 'a course' });
const courses = defineTopic({ name: 'courses', kind: 'event', partitions: 4 });
const CourseChanged = defineEvent({
  type: 'course.changed',
  version: 1,
  key: CourseId,
  topic: courses,
  description: 'a course was created or changed (its current state)',
  schema: z.object({ courseId: z.string(), title: z.string(), published: z.boolean() }),
});
const CourseRemoved = defineEvent({
  type: 'course.removed',
  version: 1,
  key: CourseId,
  topic: courses,
  description: 'a course was deleted',
  schema: z.object({ courseId: z.string() }),
});

/** The legacy table's rows become course events: its internal columns are not the contract. */
const map: ChangeMapping = (c) => {
  if (c.operation === 'delete') return [mapped(CourseRemoved, { courseId: `course-${c.before!['id']}` })];
  const row = c.after as { id: number; title: string; published: boolean };
  return [
    mapped(CourseChanged, { courseId: `course-${row.id}`, title: row.title, published: row.published }),
  ];
};

describe('PostgresChangeSource (logical replication, pgoutput) on a real server', () => {
  let db: TestDatabase;
  let slot: string;
  let publication: string;
  let table: string;

  before(async () => {
    db = testDatabase({ prefix: 'cdc' });
    slot = `${db.schema}_slot`;
    publication = `${db.schema}_pub`;
    table = `${db.schema}.courses`;
    await db.query(`CREATE SCHEMA "${db.schema}"`);
    await db.query(
      `CREATE TABLE ${table} (id int PRIMARY KEY, title text NOT NULL, published boolean NOT NULL)`,
    );
    await db.query(`CREATE TABLE ${db.schema}.other (id serial PRIMARY KEY, note text)`);
    const { slotCreated } = await createChangeCapture(db.pool, {
      slot,
      publication,
      tables: [table],
      fullBeforeImages: true,
    });
    assert.equal(slotCreated, true);
    assert.equal(
      (await createChangeCapture(db.pool, { slot, publication, tables: [table] })).slotCreated,
      false,
    );
  });

  after(async () => {
    // Never leave a slot behind on the shared server: it would hold WAL for good.
    await dropChangeCapture(db.pool, { slot, publication }).catch(() => undefined);
    await db.close();
  });

  const source = (options: { heartbeatIntervalMs?: number } = {}) =>
    new PostgresChangeSource({ connectionString: testUrl(), slot, publication, ...options });

  async function readAll(s: PostgresChangeSource, count: number, timeoutMs = 10_000): Promise<RowChange[]> {
    const out: RowChange[] = [];
    const deadline = Date.now() + timeoutMs;
    while (out.length < count && Date.now() < deadline) out.push(...(await s.read(count - out.length, 200)));
    return out;
  }

  it('a relay ships the mapped events; after the reader is killed it resumes from what was delivered, skipping nothing', async (t) => {
    const bus = createMemoryTransport();
    // Acknowledgements take a while, as over a network: a killed reader always has events published and not
    // yet acknowledged, which the next one must read again.
    const transport: Transport = {
      name: 'slow-memory',
      ensureTopic: (spec) => bus.ensureTopic(spec),
      publish: async (records) => {
        const acks = await bus.publish(records);
        await sleep(30);
        return acks;
      },
      subscribe: (options) => bus.subscribe(options),
      resetOffsets: (group, topic, target) => bus.resetOffsets(group, topic, target),
      lag: (group, topic) => bus.lag(group, topic),
      read: (topic, target, limit) => bus.read(topic, target, limit),
      close: () => bus.close(),
    };
    let stop = false;
    let committed = 0;
    let rolledBack = 0;
    const writer = async (w: number) => {
      const c = await db.client();
      while (!stop) {
        const id = 100 + Math.floor(Math.random() * 20);
        await c.query('BEGIN');
        const r = Math.random();
        if (r < 0.5) {
          await c.query(
            `INSERT INTO ${table} VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET title = excluded.title, published = excluded.published`,
            [id, `w${w}-${committed}`, r < 0.25],
          );
        } else if (r < 0.8)
          await c.query(`UPDATE ${table} SET title = $2 WHERE id = $1`, [id, `u${w}-${committed}`]);
        else await c.query(`DELETE FROM ${table} WHERE id = $1`, [id]);
        if (Math.random() < 0.1) {
          await c.query('ROLLBACK');
          rolledBack++;
        } else {
          await c.query('COMMIT');
          committed++;
        }
      }
    };
    const run = () => {
      const outbox = createChangeOutbox({ source: source(), map, eventSource: 'urn:service:legacy-courses' });
      const relay = createRelay({ outbox, transport, topics: [courses], batchSize: 50, idleWaitMs: 50 });
      relay.start();
      relay.done.catch(() => undefined); // a killed reader stops its relay; the next one takes over
      return { outbox, relay };
    };
    const writers = [1, 2, 3, 4].map(writer);
    let current = run();
    for (let kill = 0; kill < 3; kill++) {
      await sleep(700);
      // The reader dies: its connection goes, whatever was published but not yet acknowledged is read again.
      await current.outbox.close();
      await current.relay.stop().catch(() => undefined);
      current = run();
    }
    await sleep(500);
    stop = true;
    await Promise.all(writers);
    // Let the last relay drain everything, then compare the materialized state with the table.
    const expected = new Map(
      (
        await db.query<{ id: number; title: string; published: boolean }>(
          `SELECT * FROM ${table} WHERE id >= 100`,
        )
      ).map((r) => [`course-${r.id}`, { title: r.title, published: r.published }]),
    );
    const materialize = async () => {
      const state = new Map<string, { title: string; published: boolean }>();
      const records = await transport.read(courses.name, { to: 'earliest' }, 1_000_000);
      // Apply each event once (an inbox skips the replayed ones), in the order the bus holds per key.
      const applied = new Set<string>();
      const byKey = new Map<string, number[]>();
      for (const r of records) {
        const e = decodeEnvelope(r.value);
        if (applied.has(e.id)) continue;
        applied.add(e.id);
        byKey.set(r.key, [...(byKey.get(r.key) ?? []), e.sluiceseq]);
        const data = e.data as { courseId: string; title?: string; published?: boolean };
        if (e.type === 'course.removed') state.delete(data.courseId);
        else state.set(data.courseId, { title: data.title!, published: data.published! });
      }
      return { state, byKey, events: records.length, distinct: applied.size };
    };
    let result = await materialize();
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      result = await materialize();
      if (JSON.stringify([...result.state].sort()) === JSON.stringify([...expected].sort())) break;
      await sleep(200);
    }
    await current.outbox.close();
    await current.relay.stop().catch(() => undefined);
    assert.deepEqual(
      new Map([...result.state].sort()),
      new Map([...expected].sort()),
      'materialized = table',
    );
    // Per key, the events applied (first copies; replays after a kill are skipped) follow commit order.
    for (const [key, sequences] of result.byKey) {
      for (let i = 1; i < sequences.length; i++) {
        assert.ok(sequences[i]! >= sequences[i - 1]!, `${key}: ${sequences[i - 1]} then ${sequences[i]}`);
      }
    }
    t.diagnostic(
      `${committed} transactions committed, ${rolledBack} rolled back; ${result.events} events on the bus, ${result.distinct} distinct (${result.events - result.distinct} replayed after the 3 kills)`,
    );
    assert.ok(committed > 50, `writers committed ${committed} transactions (${rolledBack} rolled back)`);
    assert.ok(
      result.events > result.distinct,
      'the kills left events to read again (the test exercises replay)',
    );
    assert.ok(
      result.distinct >= committed * 0.5,
      `${result.distinct} distinct events for ${committed} commits`,
    );
  });

  it('pauses the replication stream while its buffer is full, and resumes as it is read', async () => {
    const s = new PostgresChangeSource({ connectionString: testUrl(), slot, publication, maxBuffered: 50 });
    try {
      // Whatever earlier tests left (their readers were killed before confirming) is read and delivered first.
      for (let batch = await s.read(1000, 300); batch.length > 0; batch = await s.read(1000, 300)) {
        await s.acknowledge(batch.at(-1)!.position);
      }
      await db.query(`INSERT INTO ${table} SELECT g, 'bulk', false FROM generate_series(10000, 29999) g`);
      await sleep(1000); // the server has sent everything it could
      const first = await s.read(100_000, 0);
      // Paused at 50 buffered: what was received beyond is the rest of the network reads already parsed.
      assert.ok(
        first.length >= 50 && first.length < 5000,
        `${first.length} of 20,000 changes buffered while nobody read`,
      );
      const all = [...first, ...(await readAll(s, 20_000 - first.length, 30_000))];
      assert.deepEqual(
        all.map((c) => c.after!['id']),
        Array.from({ length: 20_000 }, (_, i) => 10000 + i),
      );
      await s.acknowledge(all.at(-1)!.position);
    } finally {
      await s.close();
    }
  });

  it('hands over a TRUNCATE as one truncate change of the table, in its place in commit order', async () => {
    const s = source();
    try {
      for (let batch = await s.read(1000, 300); batch.length > 0; batch = await s.read(1000, 300)) {
        await s.acknowledge(batch.at(-1)!.position);
      }
      await db.query(`INSERT INTO ${table} VALUES (40001, 'before', true)`);
      await db.query(`TRUNCATE ${table}`);
      await db.query(`INSERT INTO ${table} VALUES (40002, 'after', true)`);
      const changes = await readAll(s, 3);
      assert.deepEqual(
        changes.map((c) => [c.operation, c.table, c.after?.['id'] ?? null, c.before ?? null]),
        [
          ['insert', 'courses', 40001, null],
          ['truncate', 'courses', null, null],
          ['insert', 'courses', 40002, null],
        ],
      );
      assert.ok(changes[1]!.sequence > changes[0]!.sequence && changes[2]!.sequence > changes[1]!.sequence);
      await s.acknowledge(changes.at(-1)!.position);
    } finally {
      await s.close();
    }
  });

  it('says the slot is missing, and how to recover, instead of starting from now', async () => {
    const s = new PostgresChangeSource({ connectionString: testUrl(), slot: `${slot}_gone`, publication });
    try {
      await assert.rejects(
        () => s.read(1, 0),
        (e: unknown) =>
          e instanceof SluiceError &&
          e.code === 'SLUICE_CDC_SLOT_MISSING' &&
          !e.retryable &&
          /backfill/.test(e.message),
      );
    } finally {
      await s.close();
    }
  });

  it('an idle source confirms the server position, so writes to other tables hold no WAL', async () => {
    const s = source({ heartbeatIntervalMs: 100 });
    try {
      // Whatever earlier tests left is read and delivered first: then the source is idle.
      for (let batch = await s.read(1000, 300); batch.length > 0; batch = await s.read(1000, 300)) {
        await s.acknowledge(batch.at(-1)!.position);
      }
      const [written] = await db.query<{ lsn: string }>(
        `WITH w AS (INSERT INTO ${db.schema}.other (note) SELECT repeat('x', 100) FROM generate_series(1, 2000) RETURNING 1)
         SELECT pg_current_wal_lsn()::text AS lsn FROM (SELECT count(*) FROM w) c`,
      );
      const lsn = written!.lsn;
      let confirmedPast = false;
      const deadline = Date.now() + 10_000;
      while (!confirmedPast && Date.now() < deadline) {
        await s.read(100, 100);
        const [row] = await db.query<{ past: boolean }>(
          'SELECT confirmed_flush_lsn >= $2::pg_lsn AS past FROM pg_replication_slots WHERE slot_name = $1',
          [slot, lsn],
        );
        confirmedPast = row?.past === true;
      }
      assert.ok(confirmedPast, `the slot's confirmed position passed ${lsn}`);
      const stats = await s.stats();
      assert.ok(stats.lagBytes !== null && stats.lagBytes < 1_000_000, `lag ${stats.lagBytes} bytes`);
    } finally {
      await s.close();
    }
  });
});
