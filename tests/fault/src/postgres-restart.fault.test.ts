/**
 * PostgreSQL restarted under a running pipeline: concurrent writers append to the PostgreSQL outbox (10% rolled
 * back on purpose), a `sluice relay --db postgres://...` process ships to the embedded log, and a consumer
 * process applies each event with its inbox and side-effect ledger in PostgreSQL, while the server is
 * restarted again and again (`pg_ctl restart -m fast`, and `-m immediate`, a crash followed by recovery).
 *
 * The server is a private cluster on its own port: never the shared one, which other tests use meanwhile.
 * The writers handle the outage as an application must: a transaction whose COMMIT got no answer has an
 * unknown outcome, settled afterwards from the business table that commits with the event. The relay and the
 * consumer get no help: they must ride out every restart on their own.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sleep } from '@sluice/core/adapter';
import { enrollmentsTopic } from '@sluice/example-enrollments';
import { createPostgresInbox, createPostgresOutbox } from '@sluice/postgres';
import { createLogTransport } from '@sluice/sqlite';
import pg from 'pg';
import { auditBus } from './bus-audit.js';
import { firstMessage, forkFixture } from './child.js';
import {
  businessTableSql,
  enrollmentKeys,
  isConnectionError,
  resolveUnknown,
  runOutageTolerantWriters,
} from './outage-tolerant-writers.js';
import type { ConsumerReport } from './postgres-consumer-process.js';
import { type PrivatePostgres, startPrivatePostgres } from './private-postgres.js';
import {
  type LedgerRow,
  ledgerProblems,
  type OrderViolation,
  postgresLedgerSql,
} from './side-effect-ledger.js';
import { cliEntry, killHard } from './sluice-process.js';

const WRITE_SECONDS = 16;
/** When (seconds into the writing) the server is restarted, and how. */
const RESTARTS: readonly { at: number; mode: 'fast' | 'immediate' }[] = [
  { at: 2, mode: 'fast' },
  { at: 5, mode: 'immediate' },
  { at: 8, mode: 'fast' },
  { at: 11, mode: 'immediate' },
  { at: 14, mode: 'fast' },
];
const PRODUCER = 'producer';
const CONSUMER = 'consumer';

/** A child process whose unexpected exit is recorded, with the tail of its stderr log. */
interface Watched {
  readonly name: string;
  readonly child: ChildProcess;
  readonly log: string;
  exit?: string;
}

function watch(name: string, child: ChildProcess, log: string): Watched {
  const w: Watched = { name, child, log };
  child.once('exit', (code, signal) => {
    w.exit = `${name} (pid ${child.pid}) exited with ${code ?? signal}`;
  });
  return w;
}

function logTail(path: string, lines = 40): string {
  if (!existsSync(path)) return '(no log)';
  return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') || '(empty)';
}

/** Starts `sluice <args>` with its stderr in `log`; resolves once it reports ready. */
async function spawnSluiceLogged(args: readonly string[], log: string): Promise<ChildProcess> {
  const fd = openSync(log, 'a');
  const child = spawn(process.execPath, [...process.execArgv, cliEntry(), ...args], {
    stdio: ['ignore', 'ignore', fd, 'ipc'],
    env: { ...process.env, SLUICE_LOG_LEVEL: 'warn' },
  });
  closeSync(fd);
  await ready(child, log);
  return child;
}

/** Waits for a child's first IPC message; on failure, says what its stderr log holds. */
async function ready(child: ChildProcess, log: string): Promise<void> {
  try {
    await firstMessage(child);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n--- its stderr (${log}) ---\n${logTail(log)}`);
  }
}

describe('PostgreSQL restarted mid-stream (fast and immediate) under writers, a relay and a consumer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pg-restart-'));
  let server: PrivatePostgres | undefined;
  const children: ChildProcess[] = [];
  after(async () => {
    await Promise.all(children.map(killHard));
    await server?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies every committed event exactly once, in order, without gaps; delivers nothing rolled back', {
    timeout: 150_000,
  }, async (t) => {
    const t0 = Date.now();
    server = await startPrivatePostgres();
    const pg0 = server;
    const pool = new pg.Pool({ connectionString: pg0.url, max: 8, connectionTimeoutMillis: 5000 });
    let idleErrors = 0;
    pool.on('error', () => idleErrors++); // idle connections cut by a restart; the pool replaces them
    const outbox = await createPostgresOutbox(pool, {
      source: 'urn:service:enrollments',
      schema: PRODUCER,
      migrate: true,
    });
    await pool.query(businessTableSql(PRODUCER));
    await createPostgresInbox(pool, { schema: CONSUMER, migrate: true });
    await pool.query(postgresLedgerSql(CONSUMER));

    const busPath = join(dir, 'bus.db');
    const bus = createLogTransport({ path: busPath });
    await bus.ensureTopic(enrollmentsTopic);
    await bus.close();

    const relayLog = join(dir, 'relay.log');
    const relay = watch(
      'sluice relay',
      await spawnSluiceLogged(
        [
          'relay',
          '--db',
          pg0.url,
          '--schema',
          PRODUCER,
          '--log',
          busPath,
          '--contracts',
          import.meta.resolve('@sluice/example-enrollments'),
          '--lease-ttl-ms',
          '1000',
          '--batch-size',
          '200',
        ],
        relayLog,
      ),
      relayLog,
    );
    children.push(relay.child);
    const consumerLog = join(dir, 'consumer.log');
    const fd = openSync(consumerLog, 'a');
    const consumerChild = forkFixture('postgres-consumer-process', [pg0.url, CONSUMER, busPath, 'member-1'], {
      stderr: fd,
    });
    closeSync(fd);
    children.push(consumerChild);
    await ready(consumerChild, consumerLog);
    const consumer = watch('consumer', consumerChild, consumerLog);
    let report: ConsumerReport | undefined;
    consumerChild.on('message', (m: ConsumerReport | { ready: true }) => {
      if ('stats' in m) report = m;
    });

    // Write for WRITE_SECONDS while the server is restarted on schedule.
    const writeStart = Date.now();
    const restarted: { mode: string; ms: number }[] = [];
    const restarts = (async () => {
      for (const r of RESTARTS) {
        await sleep(Math.max(0, writeStart + r.at * 1000 - Date.now()));
        const s = Date.now();
        await pg0.restart(r.mode);
        restarted.push({ mode: r.mode, ms: Date.now() - s });
      }
    })();
    const writers = runOutageTolerantWriters({
      pool,
      outbox,
      schema: PRODUCER,
      keys: enrollmentKeys(24),
      workers: 4,
      pauseMs: 4,
      until: () => Date.now() - writeStart >= WRITE_SECONDS * 1000,
    });
    const [ledger] = await Promise.all([writers, restarts]);
    const unknown = await resolveUnknown(pool, PRODUCER, ledger);

    // Drain: the consumer applies whatever the relay ships (bounded; stops early if a process died).
    const query = async <R extends pg.QueryResultRow>(sql: string): Promise<R[]> => {
      const until = Date.now() + 30_000;
      for (;;) {
        try {
          return (await pool.query<R>(sql)).rows;
        } catch (error) {
          if (!isConnectionError(error) || Date.now() > until) throw error;
          await sleep(100);
        }
      }
    };
    const settled = async () =>
      Number((await query<{ n: string }>(`SELECT count(*) AS n FROM "${CONSUMER}".side_effects`))[0]!.n) +
      (report?.stats.deadLettered ?? 0);
    // A liveness bound, generous for a loaded machine: here the relay drains in 1-2 s after the writers stop, but
    // one clean-clone CI run saw it still missing 135 events after 30 s (unexplained yet: the relay log is printed
    // on failure). Nothing may be missing when it ends.
    const drainedAt = Date.now();
    const deadline = drainedAt + 60_000;
    while ((await settled()) < ledger.committed.size && Date.now() < deadline) {
      if (relay.exit || consumer.exit) break;
      await sleep(100);
    }
    await sleep(500); // anything extra (a duplicate, a rolled-back event) would show up now

    const rows = await query<LedgerRow>(
      `SELECT event_id, key, sequence, applied, pid FROM "${CONSUMER}".side_effects`,
    );
    const violations = await query<OrderViolation>(
      `SELECT event_id, key, expected, got FROM "${CONSUMER}".order_violations`,
    );
    const inboxed = await query<{ n: string }>(
      `SELECT count(*) AS n FROM "${CONSUMER}".inbox WHERE consumer_group = 'fault'`,
    );
    const business = new Set(
      (await query<{ event_id: string }>(`SELECT event_id FROM "${PRODUCER}".progress_log`)).map(
        (r) => r.event_id,
      ),
    );
    const checkedAt = Date.now();
    const relayExit = relay.exit;
    const consumerExit = consumer.exit;
    await Promise.all([killHard(relay.child), killHard(consumerChild)]);
    await outbox.close();
    await pool.end();
    const onBus = await auditBus(busPath, enrollmentsTopic.name, ledger.committed);

    const stats = report?.stats;
    const immediate = restarted.filter((r) => r.mode === 'immediate').length;
    t.diagnostic(
      `committed ${ledger.committed.size} (${unknown.committed} of them after an unknown COMMIT), rolled back ${ledger.rolledBack.size} (${unknown.rolledBack} after an unknown COMMIT), ` +
        `writer connection errors ${ledger.connectionErrors}, on the bus ${onBus.records} (${onBus.resent} re-sent), applied ${rows.length}, consumer retries ${stats?.retries ?? '?'}, ` +
        `dead-lettered ${stats?.deadLettered ?? '?'}, restarts ${restarted.length} (${immediate} immediate; ${restarted.map((r) => `${r.mode} ${r.ms} ms`).join(', ')}), ` +
        `idle connections dropped ${idleErrors}, ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );

    // The relay and the consumer must have ridden out every restart on their own.
    assert.equal(
      relayExit,
      undefined,
      `the relay died during the PostgreSQL restarts: ${relayExit}\n--- relay stderr ---\n${logTail(relayLog)}`,
    );
    assert.equal(
      consumerExit,
      undefined,
      `the consumer died during the PostgreSQL restarts: ${consumerExit}\n--- consumer stderr ---\n${logTail(consumerLog)}`,
    );
    assert.equal(restarted.length, RESTARTS.length, 'every scheduled restart ran');
    assert.ok(
      ledger.committed.size > 300 && ledger.rolledBack.size > 20,
      `too little traffic to prove anything: committed ${ledger.committed.size}, rolled back ${ledger.rolledBack.size}`,
    );
    assert.ok(ledger.connectionErrors > 0, 'the restarts never cut a writer: they did not happen mid-stream');

    // Durability across the restarts (incl. the crash-like ones), as the business table sees it.
    const vanished = [...ledger.committed.keys()].filter((id) => !business.has(id));
    assert.deepEqual(vanished, [], 'transactions whose COMMIT succeeded are missing after the restarts');
    const resurrected = [...ledger.rolledBack].filter((id) => business.has(id));
    assert.deepEqual(resurrected, [], 'transactions that were rolled back are in the business table');

    // The relay's side: the bus holds every committed event, nothing else, each key's in sequence order.
    assert.deepEqual(
      onBus.problems,
      [],
      `the relay published a wrong stream to the embedded log (checked ${((drainedAt - t0) / 1000).toFixed(1)} s + ${((checkedAt - drainedAt) / 1000).toFixed(1)} s of draining)\n--- relay stderr ---\n${logTail(relayLog)}`,
    );
    // The consumer's side. A restart is an outage of its own database, not a handler failure: nothing may
    // end up in the dead-letter topic for it.
    assert.equal(
      stats?.deadLettered ?? 0,
      0,
      `the consumer dead-lettered ${stats?.deadLettered} events while PostgreSQL restarted (its inbox was unreachable for longer than the retry budget; last error: ${report?.lastError ?? 'none'})`,
    );
    const problems = ledgerProblems(ledger.committed, rows, violations);
    assert.deepEqual(
      problems,
      [],
      `the consumer's ledger disagrees with what was committed (consumer retries ${stats?.retries ?? '?'}, dead-lettered ${stats?.deadLettered ?? '?'}, last error: ${report?.lastError ?? 'none'})`,
    );
    assert.equal(Number(inboxed[0]!.n), ledger.committed.size, 'inbox records of group fault');
  });
});
