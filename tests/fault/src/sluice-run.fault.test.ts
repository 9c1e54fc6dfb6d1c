import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sleep } from '@sluice/core/adapter';
import { EnrollmentCancelled, EnrollmentCreated, EnrollmentProgressed } from '@sluice/example-enrollments';
import { createSqliteOutbox, openDatabase } from '@sluice/sqlite';
import { killHard } from '@sluice/testing';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
/** `sluice run` as users run it: the built CLI, no TypeScript loader (build first: `npx tsc -b tsconfig.build.json`). */
const CLI = join(root, 'packages', 'cli', 'dist', 'bin.js');
const EXAMPLE_CONFIG = join(root, 'examples', 'enrollments', 'src', 'sluice.config.ts');

interface Run {
  readonly child: ChildProcess;
  readonly url: string;
  readonly exited: Promise<number | null>;
  output(): string;
}

/** Starts `sluice run` on the example config; resolves once its HTTP server listens (reported over IPC). */
function startRun(env: Readonly<Record<string, string>>): Promise<Run> {
  const child = spawn(process.execPath, [CLI, 'run', '--config', EXAMPLE_CONFIG, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, ...env },
  });
  let out = '';
  const collect = (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    void exited.then((code) =>
      reject(new Error(`sluice run exited with ${code} before it was ready:\n${out}`)),
    );
    child.once('message', (m: { url?: string }) =>
      resolve({ child, url: m.url!, exited, output: () => out }),
    );
  });
}

function migrate(db: string): Promise<void> {
  const child = spawn(process.execPath, [CLI, 'migrate', '--db', db], { stdio: 'ignore' });
  return new Promise((resolve, reject) =>
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`migrate ${db}: exit ${code}`)))),
  );
}

async function readyz(url: string): Promise<{ status: number; text: string }> {
  try {
    const res = await fetch(`${url}/readyz`);
    return { status: res.status, text: await res.text() };
  } catch {
    return { status: 0, text: '' };
  }
}

interface Committed {
  readonly key: string;
  readonly sequence: number;
  readonly type: string;
}

/**
 * Writers on the application's database: `keys` enrollments in flight at once, each going Created, Progressed
 * (a few times), then Cancelled or finished, after which a new enrollment takes its place. One transaction appends
 * one or two events of one enrollment; 10% are rolled back on purpose (after the appends).
 */
function startWriters(path: string, keys: number) {
  const db = openDatabase(path);
  const outbox = createSqliteOutbox(db, { source: 'urn:service:enrollments' });
  const committed = new Map<string, Committed>();
  const rolledBack = new Set<string>();
  let created = 0;
  let students = 0;
  type Enrollment = { id: string; step: number; progress: number };
  const fresh = (): Enrollment => ({ id: randomUUID(), step: 0, progress: 0 });
  const slots = Array.from({ length: keys }, fresh);
  let stopped = false;
  const appendNext = (e: Enrollment): { id: string; key: string; sequence: number; type: string } => {
    if (e.step === 0) {
      const r = outbox.append(db, EnrollmentCreated, {
        enrollmentId: e.id,
        courseId: `C-${students % 5}`,
        studentId: `S-${students++}`,
        enrolledAt: new Date().toISOString(),
      });
      return { ...r, type: EnrollmentCreated.type };
    }
    if (e.step < 5 || Math.random() < 0.5) {
      const r = outbox.append(db, EnrollmentProgressed, {
        enrollmentId: e.id,
        progress: Math.min(100, e.progress + 10),
      });
      return { ...r, type: EnrollmentProgressed.type };
    }
    const r = outbox.append(db, EnrollmentCancelled, { enrollmentId: e.id, reason: 'student-request' });
    return { ...r, type: EnrollmentCancelled.type };
  };
  const loop = (async () => {
    while (!stopped) {
      const i = Math.floor(Math.random() * slots.length);
      const e = slots[i]!;
      const rollback = Math.random() < 0.1;
      const draft = { ...e };
      const appended: { id: string; key: string; sequence: number; type: string }[] = [];
      try {
        db.transaction(() => {
          for (let n = Math.random() < 0.3 ? 2 : 1; n > 0 && draft.step <= 12; n--) {
            const a = appendNext(draft);
            appended.push(a);
            draft.step++;
            draft.progress = Math.min(100, draft.progress + 10);
            if (a.type === EnrollmentCancelled.type) draft.step = 13;
          }
          if (rollback) throw new Error('rolled back on purpose');
        })();
      } catch (error) {
        if (!rollback) throw error;
        for (const a of appended) rolledBack.add(a.id);
        await sleep(2);
        continue;
      }
      for (const a of appended) {
        committed.set(a.id, { key: a.key, sequence: a.sequence, type: a.type });
        if (a.type === EnrollmentCreated.type) created++;
      }
      slots[i] = draft.step > 12 ? fresh() : draft;
      await sleep(2 + Math.random() * 4);
    }
  })();
  return {
    committed,
    rolledBack,
    created: () => created,
    async stop() {
      stopped = true;
      await loop;
      await outbox.close();
      db.close();
    },
  };
}

describe('sluice run SIGKILLed mid-stream and restarted (the example service: relay + consumer)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-run-fault-'));
  const env = {
    ENROLLMENTS_DB: join(dir, 'app.db'),
    REPORTS_DB: join(dir, 'reports.db'),
    SLUICE_BUS: join(dir, 'bus.db'),
    SLUICE_LOG_LEVEL: 'warn',
  };
  let run: Run | undefined;
  after(async () => {
    if (run) await killHard(run.child);
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses nothing, invents nothing, applies each event once in per-key order; /readyz waits for the lease', {
    timeout: 120_000,
  }, async (t) => {
    await migrate(env.ENROLLMENTS_DB);
    await migrate(env.REPORTS_DB);
    const writers = startWriters(env.ENROLLMENTS_DB, 12);
    const readyAfterMs: number[] = [];
    const notReadyAtStart: string[] = [];
    const firstCheckMs: number[] = [];
    /** How long the dead process's lease still had to run at each first check. */
    const leaseLeftMs: number[] = [];
    const appDb = openDatabase(env.ENROLLMENTS_DB);
    const leaseExpiry = () =>
      appDb
        .prepare("SELECT expires_at FROM sluice_relay_lease WHERE name = 'outbox'")
        .pluck()
        .get() as number;
    let deadLeaseExpiresAt = 0;
    const relayReasons: string[] = [];
    let killedAt = 0;
    /** What the last 503 before each ready named. */
    const waitedFor: string[] = [];
    let lastWaitedFor: string | undefined;
    let kills = 0;
    const t0 = Date.now();
    try {
      run = await startRun(env);
      for (;;) {
        const startedAt = Date.now();
        lastWaitedFor = undefined;
        if (kills > 0) {
          // Until the killed process's lease runs out the new process may not publish, and says so. (A restart
          // slower than the lease's remaining time, on a loaded machine, cannot be checked.)
          const checkedAt = Date.now();
          const first = await readyz(run.url);
          firstCheckMs.push(checkedAt - killedAt);
          leaseLeftMs.push(deadLeaseExpiresAt - checkedAt);
          if (checkedAt < deadLeaseExpiresAt - 100) {
            assert.equal(
              first.status,
              503,
              `ready ${checkedAt - killedAt} ms after the kill, ${deadLeaseExpiresAt - checkedAt} ms before the dead lease runs out (${first.text})`,
            );
            // Still opening (its files busy with the writers), or open and waiting for the lease.
            const relay = (
              JSON.parse(first.text) as { notReady: { pipeline: string; reason: string }[] }
            ).notReady.find((p) => p.pipeline === 'enrollments-relay');
            assert.match(relay?.reason ?? '', /^(starting|waiting for its lease partitions)/, first.text);
            relayReasons.push(relay!.reason.startsWith('starting') ? 'starting' : 'lease');
            notReadyAtStart.push(first.text);
          }
        }
        for (;;) {
          const last = await readyz(run.url);
          if (last.status === 200) break;
          lastWaitedFor = (JSON.parse(last.text) as { notReady?: { pipeline: string }[] }).notReady
            ?.map((p) => p.pipeline)
            .join('+');
          assert.ok(
            Date.now() - startedAt < 20_000,
            `not ready 20 s after a restart: ${last.text}\n${run.output()}`,
          );
          await sleep(100);
        }
        readyAfterMs.push(Date.now() - (kills > 0 ? killedAt : startedAt));
        // Ready means it publishes: the relay holds its partitions.
        const status = JSON.parse(await (await fetch(`${run.url}/api/status`)).text()) as {
          pipelines: { name: string; details: { leader?: boolean } }[];
        };
        assert.equal(status.pipelines.find((p) => p.name === 'enrollments-relay')?.details.leader, true);
        waitedFor.push(lastWaitedFor ?? 'nothing');
        // Bound the run: at least 4 kills, at most ~40 s of chaos.
        if (kills >= 4 && (kills >= 8 || Date.now() - t0 > 30_000)) break;
        await sleep(2000 + Math.random() * 1000);
        await killHard(run.child);
        killedAt = Date.now();
        deadLeaseExpiresAt = leaseExpiry();
        kills++;
        run = await startRun(env);
      }
    } finally {
      await writers.stop();
      appDb.close();
    }

    // The last run drains everything committed.
    const reports = openDatabase(env.REPORTS_DB, { busyTimeoutMs: 5000 });
    const applied = () => {
      try {
        return reports.prepare('SELECT count(*) FROM report_events').pluck().get() as number;
      } catch {
        return 0;
      }
    };
    const { committed, rolledBack } = writers;
    const drainStart = Date.now();
    while (applied() < committed.size && Date.now() - drainStart < 30_000) await sleep(100);
    const drainMs = Date.now() - drainStart;

    // report_events is a rowid table without deletes: its rowid is the order the events were applied in.
    const rows = reports
      .prepare('SELECT event_id, key, sequence, type FROM report_events ORDER BY rowid')
      .all() as { event_id: string; key: string; sequence: number; type: string }[];
    const enrolled = reports
      .prepare('SELECT coalesce(sum(enrolled), 0) FROM course_report')
      .pluck()
      .get() as number;
    const inbox = reports.prepare('SELECT count(*) FROM sluice_inbox').pluck().get() as number;
    reports.close();

    const stopAt = Date.now();
    run.child.kill('SIGTERM');
    const code = await run.exited;
    const stopMs = Date.now() - stopAt;
    const output = run.output();
    run = undefined;

    t.diagnostic(
      `committed ${committed.size}, rolled back ${rolledBack.size}, applied ${rows.length}, kills ${kills}, ` +
        `first /readyz after kill (ms) [${firstCheckMs.join(', ')}], dead lease left then (ms) [${leaseLeftMs.join(', ')}], 503 on ${notReadyAtStart.length} (relay ${relayReasons.join(', ')}), ` +
        `ready after kill (ms) [${readyAfterMs.slice(1).join(', ')}] (last waiting for ${waitedFor.slice(1).join(', ')}), ` +
        `drained in ${drainMs} ms, SIGTERM exit ${code} in ${stopMs} ms`,
    );
    const delivered = new Set(rows.map((r) => r.event_id));
    const lost = [...committed.keys()].filter((id) => !delivered.has(id));
    const phantom = rows.filter((r) => !committed.has(r.event_id) || rolledBack.has(r.event_id));
    assert.ok(kills >= 4, `killed only ${kills} times`);
    assert.ok(
      committed.size > 500 && rolledBack.size > 20,
      `committed ${committed.size}, rolled back ${rolledBack.size}`,
    );
    assert.deepEqual(lost, [], `${lost.length} of ${committed.size} committed events never applied`);
    assert.deepEqual(phantom, [], 'events that were rolled back or never committed were applied');
    assert.equal(rows.length, committed.size, 'each event applied once');
    assert.equal(inbox, committed.size, 'one inbox entry per event');
    assert.equal(enrolled, writers.created(), 'each EnrollmentCreated counted once in course_report');
    for (const r of rows) {
      const c = committed.get(r.event_id)!;
      assert.deepEqual(
        [r.key, r.sequence, r.type],
        [c.key, c.sequence, c.type],
        `event ${r.event_id} as committed`,
      );
    }
    const lastSequence = new Map<string, number>();
    for (const r of rows) {
      const prev = lastSequence.get(r.key) ?? 0;
      assert.ok(r.sequence > prev, `key ${r.key}: sequence ${r.sequence} applied after ${prev}`);
      lastSequence.set(r.key, r.sequence);
    }
    assert.ok(
      notReadyAtStart.length >= Math.max(2, Math.ceil(kills / 2)),
      `503 checked after only ${notReadyAtStart.length} of ${kills} restarts (the others started too slowly)`,
    );
    assert.equal(code, 0, output);
  });
});
