import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EnrollmentCreated, EnrollmentProgressed } from '@sluice/example-enrollments';
import { createSqliteOutbox, openDatabase } from '@sluice/sqlite';
import { PrivateRedis } from '@sluice/testing';
import { eventually, get, type RunningSluice, runSluice, startSluiceRun } from './sluice-run.test-support.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const CONFIG = join(here, 'test-configs', 'private-redis.config.mjs');

interface Status {
  pipelines: { name: string; state: string; restarts: number; lastError: { code: string } | null }[];
}

describe('sluice run: its broker away at start and restarted mid-stream', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-run-outage-'));
  let redis: PrivateRedis | undefined;
  let run: RunningSluice | undefined;
  after(async () => {
    run?.child.kill('SIGKILL');
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is live but not ready without its broker, comes back by itself, and applies every event once', {
    timeout: 90_000,
  }, async (t) => {
    // A private Redis (AOF, fsync always: what it acknowledged survives a SIGKILL), stopped before sluice starts.
    redis = await PrivateRedis.start('always');
    await redis.kill();
    const env = {
      ENROLLMENTS_DB: join(dir, 'app.db'),
      REPORTS_DB: join(dir, 'reports.db'),
      SLUICE_TEST_REDIS_URL: redis.url,
      SLUICE_LOG_LEVEL: 'info',
    };
    for (const db of [env.ENROLLMENTS_DB, env.REPORTS_DB]) {
      const { code, output } = await runSluice(['migrate', '--db', db], {});
      assert.equal(code, 0, output);
    }
    const app = openDatabase(env.ENROLLMENTS_DB);
    const outbox = createSqliteOutbox(app, { source: 'urn:service:enrollments' });
    const committed = new Map<string, { key: string; sequence: number }>();
    const keys = Array.from({ length: 10 }, () => ({ id: randomUUID(), created: false, progress: 0 }));
    let n = 0;
    /** Appends one event of one of 10 enrollments (Created first, then Progressed), in its own transaction. */
    const appendOne = () => {
      const k = keys[n++ % keys.length]!;
      const r = app.transaction(() =>
        k.created
          ? outbox.append(app, EnrollmentProgressed, { enrollmentId: k.id, progress: ++k.progress % 101 })
          : outbox.append(app, EnrollmentCreated, {
              enrollmentId: k.id,
              courseId: 'C-1',
              studentId: `S-${n}`,
              enrolledAt: new Date().toISOString(),
            }),
      )();
      k.created = true;
      committed.set(r.id, { key: r.key, sequence: r.sequence });
    };
    const reports = openDatabase(env.REPORTS_DB, { busyTimeoutMs: 5000 });
    const applied = () => {
      try {
        return reports.prepare('SELECT count(*) FROM report_events').pluck().get() as number;
      } catch {
        return 0; // the table appears with the first event
      }
    };
    try {
      // 1. Redis is not running: live, not ready, naming both pipelines; their starts fail and are retried.
      run = await startSluiceRun(['--config', CONFIG, '--port', '0'], env);
      const r = run;
      assert.equal((await get(r.url, '/livez')).status, 200);
      const notReady = await get(r.url, '/readyz');
      assert.equal(notReady.status, 503);
      const body = JSON.parse(notReady.text) as { notReady: { pipeline: string }[] };
      assert.deepEqual(body.notReady.map((p) => p.pipeline).sort(), ['course-report', 'enrollments-relay']);
      for (let i = 0; i < 100; i++) appendOne();
      let status: Status = { pipelines: [] };
      assert.ok(
        await eventually(async () => {
          status = JSON.parse((await get(r.url, '/api/status')).text) as Status;
          return status.pipelines.every(
            (p) => p.restarts >= 1 && p.lastError?.code === 'SLUICE_BROKER_UNAVAILABLE',
          );
        }, 15_000),
        `each pipeline failed to connect and was restarted: ${JSON.stringify(status)}`,
      );
      assert.equal((await get(r.url, '/readyz')).status, 503);
      assert.equal((await get(r.url, '/livez')).status, 200);
      const restartsBefore = status.pipelines.map((p) => `${p.name} ${p.restarts}`).join(', ');

      // 2. Redis starts: ready within a bounded time, and the events appended meanwhile arrive.
      const startedAt = Date.now();
      await redis.start();
      assert.ok(
        await eventually(async () => (await get(r.url, '/readyz')).status === 200, 20_000),
        `not ready 20 s after Redis started: ${(await get(r.url, '/readyz')).text}`,
      );
      const readyAfterStartMs = Date.now() - startedAt;
      assert.ok(await eventually(() => applied() === 100, 20_000), `applied ${applied()} of 100`);

      // 3. Redis SIGKILLed mid-stream and restarted: the pipelines come back by themselves.
      let writing = true;
      const writer = (async () => {
        while (writing) {
          appendOne();
          await new Promise((res) => setTimeout(res, 5));
        }
      })();
      await new Promise((res) => setTimeout(res, 1000));
      await redis.kill();
      const killedAt = Date.now();
      let outageReadyz = '';
      const sawNotReady = await eventually(
        async () => {
          const res = await get(r.url, '/readyz');
          outageReadyz = res.text;
          return res.status === 503;
        },
        5_000,
        50,
      );
      const notReadyAfterMs = Date.now() - killedAt;
      // A scrape while the bus is away still answers, promptly, without the consumer's lag (it cannot be read).
      const scrapeAt = Date.now();
      const scrape = await get(r.url, '/metrics');
      const scrapeMs = Date.now() - scrapeAt;
      assert.equal(scrape.status, 200, 'a lag read failing does not fail the scrape');
      assert.ok(scrapeMs < 5000, `the scrape took ${scrapeMs} ms with the bus away`);
      assert.doesNotMatch(
        scrape.text,
        /^sluice_consumer_lag_events\{/m,
        'no lag series while the bus is away',
      );
      await new Promise((res) => setTimeout(res, Math.max(0, 2000 - (Date.now() - killedAt))));
      const restartAt = Date.now();
      await redis.start();
      let lastNotReady = '';
      assert.ok(
        await eventually(async () => {
          const res = await get(r.url, '/readyz');
          if (res.status !== 200) lastNotReady = res.text;
          return res.status === 200;
        }, 20_000),
        `not ready 20 s after Redis restarted: ${(await get(r.url, '/readyz')).text}`,
      );
      const readyAfterRestartMs = Date.now() - restartAt;
      await new Promise((res) => setTimeout(res, 1000));
      writing = false;
      await writer;
      const drainStart = Date.now();
      assert.ok(
        await eventually(() => applied() === committed.size, 30_000),
        `applied ${applied()} of ${committed.size}`,
      );
      const drainMs = Date.now() - drainStart;
      // Back: the lag is read again, and it is 0 once the consumer has committed what it applied.
      const lagSeries = async () =>
        (await get(r.url, '/metrics')).text
          .split('\n')
          .filter((l) => l.startsWith('sluice_consumer_lag_events{'))
          .map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)));
      assert.ok(
        await eventually(async () => {
          const values = await lagSeries();
          return values.length > 0 && values.every((v) => v === 0);
        }, 10_000),
        `lag after draining: ${(await lagSeries()).join(', ')}`,
      );
      await new Promise((res) => setTimeout(res, 300)); // nothing more arrives

      const rows = reports
        .prepare('SELECT event_id, key, sequence FROM report_events ORDER BY rowid')
        .all() as { event_id: string; key: string; sequence: number }[];
      const lost = [...committed.keys()].filter((id) => !rows.some((x) => x.event_id === id));
      assert.deepEqual(lost, [], `${lost.length} of ${committed.size} appended events never applied`);
      assert.equal(rows.length, committed.size, 'each event applied once, none invented');
      const last = new Map<string, number>();
      for (const row of rows) {
        assert.deepEqual(committed.get(row.event_id), { key: row.key, sequence: row.sequence });
        assert.ok(
          row.sequence > (last.get(row.key) ?? 0),
          `key ${row.key}: sequence ${row.sequence} out of order`,
        );
        last.set(row.key, row.sequence);
      }
      const final = JSON.parse((await get(r.url, '/api/status')).text) as Status;
      t.diagnostic(
        `restarts during the outage [${restartsBefore}]; ready ${readyAfterStartMs} ms after Redis started; ` +
          `503 ${notReadyAfterMs} ms after the kill: ${sawNotReady} (${outageReadyz}); scrape ${scrapeMs} ms; ready ${readyAfterRestartMs} ms after the restart ` +
          `(last 503: ${lastNotReady}); ` +
          `events ${committed.size}, applied ${rows.length}, drained in ${drainMs} ms; final restarts [` +
          `${final.pipelines.map((p) => `${p.name} ${p.restarts}`).join(', ')}]`,
      );
      assert.ok(sawNotReady, '/readyz stayed 200 with Redis down while events were appended');

      r.child.kill('SIGTERM');
      assert.equal(await r.exited, 0, r.output());
      run = undefined;
    } finally {
      reports.close();
      await outbox.close();
      app.close();
    }
  });
});
