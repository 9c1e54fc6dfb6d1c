import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EnrollmentCreated } from '@sluice/example-enrollments';
import { createSqliteOutbox, openDatabase } from '@sluice/sqlite';
import pg from 'pg';
import { eventually, runSluice, startSluiceRun } from './sluice-run.test-support.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const CONFIG = join(here, 'test-configs', 'slow-handler.config.mjs');
const url = process.env['SLUICE_TEST_PG_URL'];
if (!url)
  throw new Error('SLUICE_TEST_PG_URL is not set: run the tests with `npm test` (it starts PostgreSQL)');

describe('sluice run: shutdown with work that does not finish', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-run-stop-'));
  const schemas: string[] = [];
  after(async () => {
    const pool = new pg.Pool({ connectionString: url });
    for (const s of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await pool.end();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A service whose consumer is inside a handler that would run for a minute. */
  async function busyService(name: string) {
    const schema = `stop_${randomBytes(5).toString('hex')}`;
    schemas.push(schema);
    const env = {
      ENROLLMENTS_DB: join(dir, `${name}-app.db`),
      SLUICE_BUS: join(dir, `${name}-bus.db`),
      INBOX_SCHEMA: schema,
      SLUICE_TEST_PG_URL: url!,
    };
    assert.equal((await runSluice(['migrate', '--db', env.ENROLLMENTS_DB], {})).code, 0);
    assert.equal((await runSluice(['migrate', '--db', url!, '--schema', schema], {})).code, 0);
    const app = openDatabase(env.ENROLLMENTS_DB);
    const outbox = createSqliteOutbox(app, { source: 'urn:service:enrollments' });
    app.transaction(() =>
      outbox.append(app, EnrollmentCreated, {
        enrollmentId: randomUUID(),
        courseId: 'C-1',
        studentId: 'S-1',
        enrolledAt: new Date().toISOString(),
      }),
    )();
    await outbox.close();
    app.close();
    const run = await startSluiceRun(['--config', CONFIG, '--port', '0'], env);
    assert.ok(await eventually(() => run.output().includes('slow handler started'), 20_000), run.output());
    return run;
  }

  it('SIGTERM exits at the configured bound (exit 1) when a handler does not finish', async () => {
    const run = await busyService('bound');
    const t0 = Date.now();
    run.child.kill('SIGTERM');
    const code = await run.exited;
    const took = Date.now() - t0;
    assert.equal(code, 1, run.output());
    assert.ok(took >= 1400, `exited after ${took} ms, before the 1.5 s bound`);
    assert.ok(took < 10_000, `exited after ${took} ms`);
    assert.match(run.output(), /service stop bound reached/);
  });

  it('a second SIGTERM exits at once', async () => {
    const run = await busyService('twice');
    run.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    run.child.kill('SIGTERM');
    const code = await run.exited;
    assert.equal(code, 1, run.output());
    assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms after the second signal`);
    assert.match(run.output(), /second signal: exiting at once/);
  });
});
