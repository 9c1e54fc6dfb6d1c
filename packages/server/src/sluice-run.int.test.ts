import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EnrollmentCreated } from '@sluice/example-enrollments';
import { createSqliteOutbox, openDatabase, type SqliteDatabase } from '@sluice/sqlite';
import { eventually, get, type RunningSluice, runSluice, startSluiceRun } from './sluice-run.test-support.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const EXAMPLE_CONFIG = join(here, '..', '..', '..', 'examples', 'enrollments', 'src', 'sluice.config.ts');
const ISOLATED_CONFIG = join(here, 'test-configs', 'isolated.config.mjs');

/** A fresh folder with the app's and the report's databases migrated, and the env the configs read. */
async function workspace() {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-run-'));
  const env = {
    ENROLLMENTS_DB: join(dir, 'app.db'),
    REPORTS_DB: join(dir, 'reports.db'),
    SLUICE_BUS: join(dir, 'bus.db'),
    SLUICE_LOG_LEVEL: 'info',
  };
  for (const db of [env.ENROLLMENTS_DB, env.REPORTS_DB]) {
    const { code, output } = await runSluice(['migrate', '--db', db], {});
    assert.equal(code, 0, output);
  }
  const app = openDatabase(env.ENROLLMENTS_DB);
  const outbox = createSqliteOutbox(app, { source: 'urn:service:enrollments' });
  let n = 0;
  /** Appends `count` enrollments, each in its own transaction, as the application would. */
  const enroll = (count: number) => {
    for (let i = 0; i < count; i++, n++) {
      app.transaction(() =>
        outbox.append(app, EnrollmentCreated, {
          enrollmentId: randomUUID(),
          courseId: `C-${n % 7}`,
          studentId: `S-${n}`,
          enrolledAt: new Date().toISOString(),
        }),
      )();
    }
  };
  const reports = () => openDatabase(env.REPORTS_DB, { busyTimeoutMs: 5000 });
  const applied = (db: SqliteDatabase) => {
    try {
      return (db.prepare('SELECT count(*) AS n FROM report_events').get() as { n: number }).n;
    } catch {
      return 0; // the table appears with the first event
    }
  };
  const close = async () => {
    await outbox.close();
    app.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { dir, env, enroll, reports, applied, close };
}

const metric = (text: string, name: string, labels = '') => {
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}${labels === '' ? '' : `{${labels}`}`) && !l.startsWith('#'));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
};

/** The sum of every series of `name` whose labels contain `labels`, and how many there are. */
const series = (text: string, name: string, labels: string) => {
  const values = text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && l.includes(labels))
    .map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)));
  return { count: values.length, sum: values.reduce((a, b) => a + b, 0) };
};

/** The consumer pipeline's lag as `/api/status` shows it. */
const statusLag = async (url: string) => {
  const status = JSON.parse((await get(url, '/api/status')).text) as {
    pipelines: { name: string; lag?: { group: string; total: number; topics: { topic: string }[] } }[];
  };
  return status.pipelines.find((p) => p.name === 'course-report')?.lag;
};

describe('sluice run: the example service (relay + consumer) as a child process', () => {
  let ws: Awaited<ReturnType<typeof workspace>>;
  let run: RunningSluice | undefined;
  before(async () => {
    ws = await workspace();
  });
  after(async () => {
    run?.child.kill('SIGKILL');
    await ws.close();
  });

  it('is ready once its pipelines run, relays and applies every event, counts them in /metrics, and drains on SIGTERM', async () => {
    ws.enroll(200);
    run = await startSluiceRun(['--config', EXAMPLE_CONFIG, '--port', '0'], ws.env);
    assert.equal((await get(run.url, '/livez')).status, 200);
    assert.ok(
      await eventually(async () => (await get(run!.url, '/readyz')).status === 200, 20_000),
      'ready within 20 s',
    );
    const reports = ws.reports();
    try {
      assert.ok(
        await eventually(() => ws.applied(reports) === 200, 20_000),
        `applied ${ws.applied(reports)} of 200`,
      );
      ws.enroll(100); // while it runs
      assert.ok(
        await eventually(() => ws.applied(reports) === 300, 20_000),
        `applied ${ws.applied(reports)} of 300`,
      );
    } finally {
      reports.close();
    }
    const metrics = (await get(run.url, '/metrics')).text;
    assert.equal(metric(metrics, 'sluice_relay_events_published_total', 'pipeline="enrollments-relay"'), 300);
    assert.equal(
      metric(
        metrics,
        'sluice_consumer_events_total',
        'pipeline="course-report",group="course-report",outcome="applied"',
      ),
      300,
    );
    assert.equal(metric(metrics, 'sluice_outbox_pending_events', 'pipeline="enrollments-relay"'), 0);
    assert.equal(metric(metrics, 'sluice_pipeline_up', 'pipeline="course-report",kind="consumer"'), 1);
    assert.ok(
      (metric(metrics, 'sluice_relay_publish_batch_duration_seconds_count', 'pipeline="enrollments-relay"') ??
        0) >= 1,
    );
    assert.equal(
      metric(
        metrics,
        'sluice_consumer_handler_duration_seconds_count',
        'pipeline="course-report",group="course-report"',
      ),
      300,
      'one handler duration per applied event',
    );
    // Caught up: one lag series per partition of the consumer's topic, all 0 once its commits are stored.
    const lag = 'sluice_consumer_lag_events';
    const lagOf = async () => series((await get(run!.url, '/metrics')).text, lag, 'pipeline="course-report"');
    assert.ok(await eventually(async () => (await lagOf()).sum === 0, 10_000), `lag ${(await lagOf()).sum}`);
    assert.ok((await lagOf()).count > 0, 'a lag series per partition');
    assert.match(
      metrics,
      /sluice_consumer_lag_events\{pipeline="course-report",group="course-report",topic="[^"]+",partition="0"\}/,
    );

    // Paused with events published: the group lags by exactly those, in /metrics and /api/status.
    const paused = await fetch(`${run.url}/api/pipelines/course-report/pause`, { method: 'POST' });
    assert.equal(paused.status, 200);
    ws.enroll(50);
    assert.ok(
      await eventually(async () => (await lagOf()).sum === 50, 20_000),
      `lag ${(await lagOf()).sum} while paused, 50 expected`,
    );
    const pausedLag = await statusLag(run.url);
    assert.equal(pausedLag?.group, 'course-report');
    assert.equal(pausedLag?.total, 50, '/api/status shows the lag of the paused consumer');
    assert.ok((pausedLag?.topics.length ?? 0) > 0);

    // Resumed: it catches up and the lag falls back to 0.
    const resumed = await fetch(`${run.url}/api/pipelines/course-report/resume`, { method: 'POST' });
    assert.equal(resumed.status, 200);
    assert.ok(
      await eventually(async () => (await lagOf()).sum === 0, 20_000),
      `lag ${(await lagOf()).sum} after resuming`,
    );
    assert.equal((await statusLag(run.url))?.total, 0);

    const status = JSON.parse((await get(run.url, '/api/status')).text) as {
      pipelines: { name: string; state: string }[];
    };
    assert.deepEqual(
      status.pipelines.map((p) => [p.name, p.state]),
      [
        ['enrollments-relay', 'running'],
        ['course-report', 'running'],
      ],
    );

    const t0 = Date.now();
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0, run.output());
    assert.ok(Date.now() - t0 < 10_000, 'stopped within the configured 10 s bound');
    assert.match(run.output(), /"msg":"service stopped"/);
    // One line per state change, never one per event at info.
    const lines = run
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'));
    assert.ok(lines.length < 30, `${lines.length} log lines for 300 events`);
    run = undefined;
  });
});

describe('sluice run: two instances of one service', () => {
  it('the second stands by: 503 waiting for the lease, then ready as a standby while the first publishes', async () => {
    const ws = await workspace();
    const a = await startSluiceRun(['--config', EXAMPLE_CONFIG, '--port', '0'], ws.env);
    let b: RunningSluice | undefined;
    try {
      assert.ok(await eventually(async () => (await get(a.url, '/readyz')).status === 200, 20_000));
      const bStarted = Date.now();
      b = await startSluiceRun(['--config', EXAMPLE_CONFIG, '--port', '0'], ws.env);
      // Right after start its pipelines may still report "starting"; once connected, the relay waits for the lease.
      const standby = b;
      let waiting = { status: 0, text: '' };
      assert.ok(
        await eventually(async () => {
          waiting = await get(standby.url, '/readyz');
          assert.equal(waiting.status, 503, `ready after ${Date.now() - bStarted} ms: ${waiting.text}`);
          return /enrollments-relay.*waiting for its lease partitions/.test(waiting.text);
        }, 5_000),
        waiting.text,
      );
      assert.ok(await eventually(async () => (await get(standby.url, '/readyz')).status === 200, 20_000));
      // Two lease lifetimes (2 × 5 s) standing by, not before.
      assert.ok(Date.now() - bStarted >= 9_000, `ready as a standby after ${Date.now() - bStarted} ms`);
      const relayOf = async (url: string) =>
        (
          JSON.parse((await get(url, '/api/status')).text) as {
            pipelines: { name: string; details: { leader?: boolean } }[];
          }
        ).pipelines.find((p) => p.name === 'enrollments-relay')!.details;
      assert.equal((await relayOf(a.url)).leader, true);
      assert.equal((await relayOf(b.url)).leader, false);
      ws.enroll(20);
      const reports = ws.reports();
      try {
        assert.ok(
          await eventually(() => ws.applied(reports) === 20, 20_000),
          `applied ${ws.applied(reports)} of 20`,
        );
      } finally {
        reports.close();
      }
    } finally {
      a.child.kill('SIGTERM');
      b?.child.kill('SIGTERM');
      assert.equal(await a.exited, 0, a.output());
      if (b) assert.equal(await b.exited, 0, b.output());
      await ws.close();
    }
  });
});

describe('sluice run: a failing pipeline is isolated', () => {
  it('the others flow; /readyz is 503 naming it; it is restarted with backoff; no password is shown', async () => {
    const ws = await workspace();
    const run = await startSluiceRun(['--config', ISOLATED_CONFIG, '--port', '0'], ws.env);
    try {
      ws.enroll(50);
      const reports = ws.reports();
      try {
        assert.ok(
          await eventually(() => ws.applied(reports) === 50, 20_000),
          `applied ${ws.applied(reports)} of 50`,
        );
      } finally {
        reports.close();
      }
      let ready = { status: 0, text: '' };
      assert.ok(
        await eventually(async () => {
          ready = await get(run.url, '/readyz');
          return ready.status === 503 && ready.text.includes('audit-copy');
        }, 10_000),
        ready.text,
      );
      const body = JSON.parse(ready.text) as { notReady: { pipeline: string; reason: string }[] };
      assert.deepEqual(
        body.notReady.map((p) => p.pipeline),
        ['audit-copy'],
        'only the failing pipeline is not ready',
      );
      assert.match(body.notReady[0]!.reason, /SLUICE_DATABASE_UNAVAILABLE/);
      assert.ok(
        await eventually(
          async () =>
            (metric(
              (await get(run.url, '/metrics')).text,
              'sluice_pipeline_restarts_total',
              'pipeline="audit-copy"',
            ) ?? 0) >= 2,
          15_000,
        ),
        'restarted again and again',
      );
      const status = await get(run.url, '/api/status');
      for (const text of [ready.text, status.text, run.output()]) {
        assert.ok(!text.includes('s3cr3t-pw'), `a password leaked: ${text.slice(0, 400)}`);
      }
      assert.match(status.text, /sluice:\*\*\*@127\.0\.0\.1:1/);
    } finally {
      run.child.kill('SIGKILL');
      await run.exited;
      await ws.close();
    }
  });

  it('a missing environment variable stops the start, naming it (exit 1)', async () => {
    const { code, output } = await runSluice(
      ['run', '--config', join(here, 'test-configs', 'needs-env.config.mjs'), '--port', '0'],
      {},
    );
    assert.equal(code, 1);
    assert.match(output, /SLUICE_TEST_UNSET_DATABASE_URL/);
    assert.match(output, /stores\.app/);
  });
});

describe('sluice check', () => {
  it('passes a config whose stores are migrated and buses reachable; names every problem otherwise (exit 1)', async () => {
    const ws = await workspace();
    try {
      const good = await runSluice(['check', '--config', EXAMPLE_CONFIG], ws.env);
      assert.equal(good.code, 0, good.output);
      assert.match(good.output, /ok {4}store app: .*app\.db reachable, migrated/);
      assert.match(good.output, /ok {4}transport bus: .*bus\.db reachable, topics declared compatibly/);
      assert.match(good.output, /2 pipeline\(s\) ready to run/);

      const fresh = join(ws.dir, 'fresh.db');
      const unmigrated = await runSluice(['check', '--config', EXAMPLE_CONFIG], {
        ...ws.env,
        REPORTS_DB: fresh,
      });
      assert.equal(unmigrated.code, 1, unmigrated.output);
      assert.match(unmigrated.output, /FAIL {2}store reports: .*fresh\.db has \d+ pending migration/);

      const away = await runSluice(['check', '--config', ISOLATED_CONFIG], ws.env);
      assert.equal(away.code, 1, away.output);
      assert.match(away.output, /FAIL {2}store away: SLUICE_DATABASE_UNAVAILABLE/);
      assert.ok(!away.output.includes('s3cr3t-pw'), away.output);
    } finally {
      await ws.close();
    }
  });
});
