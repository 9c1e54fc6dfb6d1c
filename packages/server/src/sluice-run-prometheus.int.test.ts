import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EnrollmentCreated } from '@sluice/example-enrollments';
import { createSqliteOutbox, openDatabase } from '@sluice/sqlite';
import { scrapedByTestPrometheus } from '@sluice/testing';
import { get, runSluice, startSluiceRun } from './sluice-run.test-support.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const EXAMPLE_CONFIG = join(here, '..', '..', '..', 'examples', 'enrollments', 'src', 'sluice.config.ts');

describe('sluice run scraped by a real Prometheus', () => {
  const prometheus = scrapedByTestPrometheus();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-prom-'));
  after(async () => {
    await prometheus.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('outbox pending rises in Prometheus while the relay pipeline is paused and falls after it resumes', {
    timeout: 150_000,
  }, async () => {
    const env = {
      ENROLLMENTS_DB: join(dir, 'app.db'),
      REPORTS_DB: join(dir, 'reports.db'),
      SLUICE_BUS: join(dir, 'bus.db'),
    };
    for (const db of [env.ENROLLMENTS_DB, env.REPORTS_DB])
      assert.equal((await runSluice(['migrate', '--db', db], {})).code, 0);
    const run = await startSluiceRun(['--config', EXAMPLE_CONFIG, '--port', '0'], env);
    const app = openDatabase(env.ENROLLMENTS_DB);
    const outbox = createSqliteOutbox(app, { source: 'urn:service:enrollments' });
    try {
      const job = `sluice-run-${randomUUID().slice(0, 8)}`;
      await prometheus.addTarget(job, new URL(run.url).host);
      await prometheus.waitForTarget(job, 60_000);
      const pending = `sluice_outbox_pending_events{job="${job}",pipeline="enrollments-relay"}`;
      await prometheus.waitFor(pending, (s) => s.length === 1 && s[0]!.value === 0, 30_000);

      const pause = await fetch(`${run.url}/api/pipelines/enrollments-relay/pause`, {
        method: 'POST',
        headers: { 'x-sluice-actor': 'ops@example.test' },
      });
      assert.equal(pause.status, 200);
      assert.equal((await get(run.url, '/readyz')).status, 503, 'a paused pipeline is not ready');
      for (let i = 0; i < 120; i++) {
        app.transaction(() =>
          outbox.append(app, EnrollmentCreated, {
            enrollmentId: randomUUID(),
            courseId: 'C-1',
            studentId: `S-${i}`,
            enrolledAt: new Date().toISOString(),
          }),
        )();
      }
      const risen = await prometheus.waitFor(pending, (s) => s[0]?.value === 120, 30_000);
      assert.equal(risen[0]!.value, 120);
      const age = await prometheus.query(`sluice_outbox_oldest_pending_age_seconds{job="${job}"}`);
      assert.ok(age[0]!.value > 0, 'the oldest pending event has an age');

      const resume = await fetch(`${run.url}/api/pipelines/enrollments-relay/resume`, {
        method: 'POST',
        headers: { 'x-sluice-actor': 'ops@example.test' },
      });
      assert.equal(resume.status, 200);
      await prometheus.waitFor(pending, (s) => s[0]?.value === 0, 30_000);
      const published = await prometheus.waitFor(
        `sluice_relay_events_published_total{job="${job}"}`,
        (s) => s[0]?.value === 120,
        30_000,
      );
      assert.equal(published[0]!.value, 120);
      await prometheus.waitFor(
        `sluice_consumer_events_total{job="${job}",outcome="applied"}`,
        (s) => s[0]?.value === 120,
        30_000,
      );
      // The operator's actions are in the log, with who.
      assert.match(run.output(), /"by":"ops@example\.test".*"msg":"pipeline paused"/);
      assert.match(run.output(), /"by":"ops@example\.test".*"msg":"pipeline resumed"/);
    } finally {
      await outbox.close();
      app.close();
      run.child.kill('SIGTERM');
      await run.exited;
    }
  });
});
