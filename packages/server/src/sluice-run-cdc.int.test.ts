import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeEnvelope } from '@sluice/core';
import { EnrollmentCreated } from '@sluice/example-enrollments';
import { catalogueTopic, legacyCoursesSql } from '@sluice/example-legacy-courses';
import { createChangeCapture, dropChangeCapture } from '@sluice/postgres/cdc';
import { createLogTransport, createSqliteOutbox, openDatabase } from '@sluice/sqlite';
import pg from 'pg';
import { eventually, get, runSluice, startSluiceRun } from './sluice-run.test-support.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const CONFIG = join(here, '..', '..', '..', 'examples', 'legacy-courses', 'src', 'sluice.config.ts');
const url = process.env['SLUICE_TEST_PG_URL'];
if (!url)
  throw new Error('SLUICE_TEST_PG_URL is not set: run the tests with `npm test` (it starts PostgreSQL)');

describe('sluice run on the legacy-courses example: change data capture, an outbox relay and a consumer together', () => {
  const schema = `svc_${randomBytes(5).toString('hex')}`;
  const capture = { slot: `${schema}_slot`, publication: `${schema}_pub` };
  const pool = new pg.Pool({ connectionString: url });
  const dir = mkdtempSync(join(tmpdir(), 'sluice-run-cdc-'));

  before(async () => {
    await pool.query(`CREATE SCHEMA ${schema}`);
    await pool.query(legacyCoursesSql(`${schema}.course`));
    await createChangeCapture(pool, { ...capture, tables: [`${schema}.course`], fullBeforeImages: true });
  });
  after(async () => {
    await dropChangeCapture(pool, capture).catch(() => undefined);
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is ready when all three run; legacy rows reach the bus as catalogue events, enrollments reach the report', {
    timeout: 90_000,
  }, async () => {
    const env = {
      ENROLLMENTS_DB: join(dir, 'app.db'),
      REPORTS_DB: join(dir, 'reports.db'),
      SLUICE_BUS: join(dir, 'bus.db'),
      CATALOGUE_DATABASE_URL: url,
      CATALOGUE_SLOT: capture.slot,
      CATALOGUE_PUBLICATION: capture.publication,
    };
    for (const db of [env.ENROLLMENTS_DB, env.REPORTS_DB])
      assert.equal((await runSluice(['migrate', '--db', db], {})).code, 0);
    const run = await startSluiceRun(['--config', CONFIG, '--port', '0'], env);
    const app = openDatabase(env.ENROLLMENTS_DB);
    const outbox = createSqliteOutbox(app, { source: 'urn:service:enrollments' });
    const bus = createLogTransport({ path: env.SLUICE_BUS });
    try {
      let ready = { status: 0, text: '' };
      assert.ok(
        await eventually(async () => {
          ready = await get(run.url, '/readyz');
          return ready.status === 200;
        }, 30_000),
        `not ready: ${ready.text}\n${run.output()}`,
      );
      assert.deepEqual(JSON.parse(ready.text).pipelines, [
        'catalogue-changes',
        'enrollments-relay',
        'course-report',
      ]);

      // The legacy application writes its table; the enrollments service appends to its outbox.
      const t = `${schema}.course`;
      await pool.query(`INSERT INTO ${t} (course_code, name, state, seats, internal_cost) VALUES
        ('C-201', 'Compilers', 'P', 20, 800), ('C-202', 'Drafting', 'D', 10, 100)`);
      await pool.query(`UPDATE ${t} SET seats = 25 WHERE course_code = 'C-201'`);
      for (let i = 0; i < 40; i++) {
        app.transaction(() =>
          outbox.append(app, EnrollmentCreated, {
            enrollmentId: randomUUID(),
            courseId: 'C-201',
            studentId: `S-${i}`,
            enrolledAt: new Date().toISOString(),
          }),
        )();
      }
      const catalogue = async () =>
        (await bus.read(catalogueTopic.name, { to: 'earliest' }, 100)).map((r) => decodeEnvelope(r.value));
      assert.ok(
        await eventually(async () => (await catalogue()).length >= 2, 20_000),
        'catalogue events on the bus',
      );
      const events = await catalogue();
      assert.deepEqual(
        events.map((e) => [e.type, e.data]),
        [
          ['course.published', { courseId: 'C-201', title: 'Compilers', seats: 20 }],
          ['course.updated', { courseId: 'C-201', title: 'Compilers', seats: 25 }],
        ],
        'the draft is not published; the internal cost never leaves',
      );
      const reports = openDatabase(env.REPORTS_DB);
      try {
        const applied = () => {
          try {
            return (reports.prepare('SELECT count(*) AS n FROM report_events').get() as { n: number }).n;
          } catch {
            return 0;
          }
        };
        assert.ok(await eventually(() => applied() === 40, 20_000), `applied ${applied()} of 40`);
      } finally {
        reports.close();
      }
      const metrics = (await get(run.url, '/metrics')).text;
      // Two catalogue events, and the course's listing (an entity topic) after each of the two changes.
      assert.match(metrics, /sluice_relay_events_published_total\{pipeline="catalogue-changes"\} 4\n/);
      assert.match(metrics, /sluice_relay_events_published_total\{pipeline="enrollments-relay"\} 40\n/);
      assert.match(metrics, /sluice_cdc_lag_bytes\{pipeline="catalogue-changes"\} \d+\n/);
      assert.match(metrics, /sluice_cdc_lag_seconds\{pipeline="catalogue-changes"\} [\d.e-]+\n/);
      run.child.kill('SIGTERM');
      assert.equal(await run.exited, 0, run.output());
    } finally {
      run.child.kill('SIGKILL');
      await bus.close();
      await outbox.close();
      app.close();
    }
  });
});
