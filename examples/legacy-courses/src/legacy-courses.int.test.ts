import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  type ChangeSource,
  createChangeOutbox,
  createRelay,
  decodeEnvelope,
  withBackfill,
} from '@sluice/core';
import { sleep } from '@sluice/core/adapter';
import { createMemoryTransport } from '@sluice/core/testing';
import {
  createChangeCapture,
  createPostgresSnapshotter,
  dropChangeCapture,
  PostgresChangeSource,
} from '@sluice/postgres/cdc';
import pg from 'pg';
import { catalogueTopic, courseListingTopic } from './contracts.js';
import { mapCourseChange } from './course-mapping.js';
import { legacyCoursesSql } from './legacy-schema.js';

const url = process.env['SLUICE_TEST_PG_URL'];
if (!url)
  throw new Error('SLUICE_TEST_PG_URL is not set: run the tests with `npm test` (it starts PostgreSQL)');

describe('example: a legacy "courses" table liberated as catalogue events', () => {
  const schema = `legacy_${randomBytes(5).toString('hex')}`;
  const capture = { slot: `${schema}_slot`, publication: `${schema}_pub` };
  const pool = new pg.Pool({ connectionString: url });

  before(async () => {
    await pool.query(`CREATE SCHEMA ${schema}`);
    await pool.query(legacyCoursesSql(`${schema}.course`));
    await createChangeCapture(pool, {
      ...capture,
      tables: [`${schema}.course`],
      fullBeforeImages: true,
      backfillSchema: schema,
    });
  });
  after(async () => {
    await dropChangeCapture(pool, capture).catch(() => undefined);
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  });

  /** The catalogue's CDC relay, reading `source` into a memory transport. */
  function startRelay(source: ChangeSource) {
    const transport = createMemoryTransport();
    const outbox = createChangeOutbox({ source, map: mapCourseChange, eventSource: 'urn:service:catalogue' });
    const relay = createRelay({
      outbox,
      transport,
      topics: [catalogueTopic, courseListingTopic],
      idleWaitMs: 50,
    });
    relay.start();
    return { transport, relay, outbox };
  }

  it('publishes what students see, in order per course, and nothing of the internal model', async () => {
    const { transport, relay, outbox } = startRelay(
      new PostgresChangeSource({ connectionString: url, ...capture }),
    );
    try {
      // The legacy application, unchanged: plain SQL on its own table.
      const t = `${schema}.course`;
      await pool.query(`INSERT INTO ${t} (course_code, name, state, seats, internal_cost) VALUES
        ('C-101', 'Databases', 'D', 30, 1200), ('C-102', 'Networks', 'P', 25, 900)`);
      await pool.query(`UPDATE ${t} SET name = 'Databases I' WHERE course_code = 'C-101'`); // still a draft
      await pool.query(`UPDATE ${t} SET state = 'P' WHERE course_code = 'C-101'`); // goes live
      await pool.query(`UPDATE ${t} SET internal_cost = 1500, updated = now() WHERE course_code = 'C-101'`);
      await pool.query(`UPDATE ${t} SET seats = 35 WHERE course_code = 'C-101'`);
      await pool.query(`UPDATE ${t} SET state = 'X' WHERE course_code = 'C-102'`); // retired
      await pool.query(`DELETE FROM ${t} WHERE course_code = 'C-102'`);

      const read = async () =>
        (await transport.read(catalogueTopic.name, { to: 'earliest' }, 100)).map((r) => ({
          key: r.key,
          envelope: decodeEnvelope(r.value),
        }));
      const deadline = Date.now() + 10_000;
      while ((await read()).length < 3 && Date.now() < deadline) await sleep(50);
      await sleep(300); // nothing else may follow
      const events = await read();
      const c101 = events.filter((e) => e.key === 'C-101').map((e) => [e.envelope.type, e.envelope.data]);
      assert.deepEqual(c101, [
        ['course.published', { courseId: 'C-101', title: 'Databases I', seats: 30 }],
        ['course.updated', { courseId: 'C-101', title: 'Databases I', seats: 35 }],
      ]);
      assert.deepEqual(
        events.filter((e) => e.key === 'C-102').map((e) => e.envelope.type),
        ['course.published'],
      );
      for (const e of events) {
        assert.equal(e.envelope.source, 'urn:service:catalogue');
        assert.doesNotMatch(JSON.stringify(e.envelope.data), /internal_cost|1500|state/);
      }
    } finally {
      await relay.stop();
      await outbox.close();
    }
  });

  it('a new consumer rebuilds the listing from a backfill of the whole table while the legacy app writes on', async () => {
    const t = `${schema}.course`;
    // Courses the catalogue had long before anyone captured its changes.
    await pool.query(`INSERT INTO ${t} (course_code, name, state, seats, internal_cost)
      SELECT 'C-' || (200 + g), 'Course ' || g, (ARRAY['D', 'P', 'P', 'X'])[1 + g % 4], g, 100 FROM generate_series(1, 120) g`);
    // ...whose inserts are long gone from the log: read past them here, as if they predated the slot.
    const past = new PostgresChangeSource({ connectionString: url, ...capture });
    for (let skipped = 0; skipped < 120; ) {
      const changes = await past.read(500, 1000);
      skipped += changes.length;
      if (changes.length > 0) await past.acknowledge(changes.at(-1)!.position);
    }
    await past.close();
    const source = withBackfill(new PostgresChangeSource({ connectionString: url, ...capture }), {
      snapshotter: createPostgresSnapshotter(pool, { schema, chunkSize: 25 }),
      pollIntervalMs: 50,
    });
    const { transport, relay, outbox } = startRelay(source);
    try {
      await createPostgresSnapshotter(pool, { schema }).request({
        source: source.name,
        schema,
        table: 'course',
      });
      // The legacy application carries on meanwhile.
      await pool.query(
        `UPDATE ${t} SET seats = seats + 100 WHERE course_code IN ('C-202', 'C-203', 'C-301')`,
      );
      await pool.query(`UPDATE ${t} SET state = 'X' WHERE course_code = 'C-206'`);
      await pool.query(`UPDATE ${t} SET state = 'P' WHERE course_code = 'C-204'`);

      const expected = new Map(
        (
          await pool.query<{ course_code: string; name: string; seats: number }>(
            `SELECT course_code, name, seats FROM ${t} WHERE state = 'P'`,
          )
        ).rows.map((r) => [r.course_code, { title: r.name, seats: r.seats }]),
      );
      let listing = new Map<string, { title: string; seats: number }>();
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        listing = new Map();
        for (const r of await transport.read(courseListingTopic.name, { to: 'earliest' }, 10_000)) {
          const data = decodeEnvelope(r.value).data as {
            courseId: string;
            title: string;
            seats: number;
            listed: boolean;
          };
          if (data.listed) listing.set(data.courseId, { title: data.title, seats: data.seats });
          else listing.delete(data.courseId);
        }
        if (
          listing.size === expected.size &&
          [...expected].every(([k, v]) => listing.get(k)?.seats === v.seats)
        )
          break;
        await sleep(100);
      }
      assert.ok(expected.size > 50);
      assert.deepEqual([...listing].sort(), [...expected].sort());
    } finally {
      await relay.stop();
      await outbox.close();
    }
  });
});
