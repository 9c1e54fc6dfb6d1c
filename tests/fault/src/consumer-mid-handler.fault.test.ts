/**
 * The consumer killed in the middle of a handler, deterministically: for chosen events the handler writes its
 * side effect inside the inbox transaction and then blocks; the test checks that the write is not visible from
 * outside, SIGKILLs the consumer process with the transaction open, checks again, and starts the next consumer
 * process, which must apply that event (and everything after it) exactly once. Repeated for 26 events, on the
 * PostgreSQL inbox and on the SQLite inbox.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createRelay } from '@sluice/core';
import { sleep } from '@sluice/core/adapter';
import { EnrollmentProgressed, enrollmentsTopic } from '@sluice/example-enrollments';
import { createPostgresInbox } from '@sluice/postgres';
import { createLogTransport, createSqliteInbox, createSqliteOutbox, openDatabase } from '@sluice/sqlite';
import pg from 'pg';
import { firstMessage, forkFixture } from './child.js';
import type { BlockedMessage, GoMessage } from './mid-handler-consumer-process.js';
import { enrollmentKeys } from './outage-tolerant-writers.js';
import {
  type LedgerRow,
  ledgerProblems,
  type OrderViolation,
  postgresLedgerSql,
  SQLITE_LEDGER_SQL,
} from './side-effect-ledger.js';
import { killHard } from './sluice-process.js';

const KEYS = 8;
const PER_KEY = 15;
/** Appended round-robin over the keys: index i is key i % 8, sequence floor(i / 8) + 1. */
const EVENTS = KEYS * PER_KEY;
/** Every fifth event, plus two consecutive events of one key (sequences 3 and 4 of key 0). */
const CHOSEN = [...Array.from({ length: EVENTS }, (_, i) => i).filter((i) => i % 5 === 2), 16, 24];

/** Where the consumer's inbox and ledger live, seen from the test. */
interface InboxBackend {
  readonly name: 'postgres' | 'sqlite';
  /** The child's argv after the backend name: target and schema. */
  readonly args: readonly [string, string];
  /** How many side-effect rows and inbox records of `eventId` are visible (committed) from outside. */
  visible(eventId: string): Promise<{ effects: number; inbox: number }>;
  read(): Promise<{ rows: LedgerRow[]; violations: OrderViolation[]; inbox: number }>;
  close(): Promise<void>;
}

async function postgresBackend(url: string): Promise<InboxBackend> {
  const schema = `midh_${Math.random().toString(36).slice(2, 10)}`;
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => undefined);
  await createPostgresInbox(pool, { schema, migrate: true });
  await pool.query(postgresLedgerSql(schema));
  const count = async (sql: string, params: unknown[]) =>
    Number((await pool.query<{ n: string }>(sql, params)).rows[0]!.n);
  return {
    name: 'postgres',
    args: [url, schema],
    async visible(eventId) {
      return {
        effects: await count(`SELECT count(*) AS n FROM "${schema}".side_effects WHERE event_id = $1`, [
          eventId,
        ]),
        inbox: await count(
          `SELECT count(*) AS n FROM "${schema}".inbox WHERE consumer_group = 'mid' AND event_id = $1`,
          [eventId],
        ),
      };
    },
    async read() {
      return {
        rows: (
          await pool.query<LedgerRow>(
            `SELECT event_id, key, sequence, applied, pid FROM "${schema}".side_effects`,
          )
        ).rows,
        violations: (
          await pool.query<OrderViolation>(
            `SELECT event_id, key, expected, got FROM "${schema}".order_violations`,
          )
        ).rows,
        inbox: await count(`SELECT count(*) AS n FROM "${schema}".inbox WHERE consumer_group = 'mid'`, []),
      };
    },
    async close() {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await pool.end();
    },
  };
}

function sqliteBackend(dir: string): InboxBackend {
  const path = join(dir, 'consumer.db');
  const db = openDatabase(path);
  createSqliteInbox(db, { migrate: true });
  db.exec(SQLITE_LEDGER_SQL);
  const effects = db.prepare('SELECT count(*) FROM side_effects WHERE event_id = ?').pluck();
  const inbox = db
    .prepare("SELECT count(*) FROM sluice_inbox WHERE consumer_group = 'mid' AND event_id = ?")
    .pluck();
  return {
    name: 'sqlite',
    args: [path, '-'],
    async visible(eventId) {
      return { effects: effects.get(eventId) as number, inbox: inbox.get(eventId) as number };
    },
    async read() {
      return {
        rows: db
          .prepare('SELECT event_id, key, sequence, applied, pid FROM side_effects')
          .all() as LedgerRow[],
        violations: db
          .prepare('SELECT event_id, key, expected, got FROM order_violations')
          .all() as OrderViolation[],
        inbox: db
          .prepare("SELECT count(*) FROM sluice_inbox WHERE consumer_group = 'mid'")
          .pluck()
          .get() as number,
      };
    },
    async close() {
      db.close();
    },
  };
}

/** Appends the events to a SQLite outbox and relays them to the embedded log; returns them in append order. */
async function publishEvents(dir: string, busPath: string) {
  const app = openDatabase(join(dir, 'app.db'));
  const outbox = createSqliteOutbox(app, { source: 'urn:service:enrollments', migrate: true });
  const keys = enrollmentKeys(KEYS);
  const events: { id: string; key: string; sequence: number }[] = [];
  for (let i = 0; i < EVENTS; i++) {
    app.transaction(() => {
      events.push(
        outbox.append(app, EnrollmentProgressed, { enrollmentId: keys[i % KEYS]!, progress: i % 101 }),
      );
    })();
  }
  const bus = createLogTransport({ path: busPath });
  const relay = createRelay({ outbox, transport: bus, topics: [enrollmentsTopic], idleWaitMs: 20 }).start();
  const deadline = Date.now() + 20_000;
  while ((await outbox.stats()).pending > 0) {
    assert.ok(Date.now() < deadline, 'the relay did not ship the events to the log within 20 s');
    await sleep(20);
  }
  await relay.stop();
  await bus.close();
  await outbox.close();
  app.close();
  return events;
}

function logTail(path: string): string {
  if (!existsSync(path)) return '(no log)';
  return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-30).join('\n') || '(empty)';
}

/** The next `{ blocked }` from `child`, or `done` once `isDone()` holds; rejects if the child exits. */
function blockedOrDone(
  child: ChildProcess,
  isDone: () => Promise<boolean>,
  log: string,
  timeoutMs: number,
): Promise<BlockedMessage | 'done'> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      fn();
    };
    const onMessage = (m: BlockedMessage) => {
      if (typeof m === 'object' && m !== null && 'blocked' in m) finish(() => resolve(m));
    };
    const onExit = (code: number | null, signal: string | null) =>
      finish(() =>
        reject(
          new Error(
            `consumer ${child.pid} exited (${code ?? signal}) mid-run\n--- its stderr ---\n${logTail(log)}`,
          ),
        ),
      );
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(
            new Error(
              `consumer ${child.pid} neither blocked on a chosen event nor finished in ${timeoutMs} ms\n--- its stderr ---\n${logTail(log)}`,
            ),
          ),
        ),
      timeoutMs,
    );
    child.on('message', onMessage);
    child.once('exit', onExit);
    const poll = async () => {
      while (!settled) {
        if (await isDone()) return finish(() => resolve('done'));
        await sleep(50);
      }
    };
    poll().catch((error: unknown) => finish(() => reject(error)));
  });
}

async function runKills(
  backend: InboxBackend,
  dir: string,
  t: { diagnostic(message: string): void },
): Promise<void> {
  const t0 = Date.now();
  const busPath = join(dir, 'bus.db');
  const events = await publishEvents(dir, busPath);
  const committed = new Map(events.map((e) => [e.id, { key: e.key, sequence: e.sequence }]));
  const chosen = new Set(CHOSEN.map((i) => events[i]!.id));
  const pending = new Set(chosen);
  const killedBy = new Map<string, number>(); // event id -> pid of the process killed mid-handler
  const log = join(dir, 'consumer.log');
  const fork = () => {
    const fd = openSync(log, 'a');
    const child = forkFixture('mid-handler-consumer-process', [backend.name, ...backend.args, busPath], {
      stderr: fd,
    });
    closeSync(fd);
    const warm = firstMessage(child);
    warm.catch(() => undefined); // the last one is killed unused; whoever awaits it still sees the rejection
    return { child, warm };
  };
  const processes: ChildProcess[] = [];
  let next = fork();
  processes.push(next.child);
  try {
    for (;;) {
      const current = next;
      await current.warm;
      current.child.send({ go: true, block: [...pending] } satisfies GoMessage);
      next = fork(); // warms up while this one runs
      processes.push(next.child);
      const outcome = await blockedOrDone(
        current.child,
        async () => pending.size === 0 && (await backend.read()).rows.length >= EVENTS,
        log,
        30_000,
      );
      if (outcome === 'done') break;

      const { blocked: id, seenInTx, pid } = outcome;
      assert.ok(
        pending.has(id),
        `the consumer blocked on ${id}, which is not a chosen event still to kill on`,
      );
      assert.equal(
        seenInTx,
        1,
        `the handler's side effect of ${id} is not visible inside its own transaction`,
      );
      assert.deepEqual(
        await backend.visible(id),
        { effects: 0, inbox: 0 },
        `the side effect or inbox record of ${id} is visible outside its transaction before it committed`,
      );
      await killHard(current.child);
      assert.deepEqual(
        await backend.visible(id),
        { effects: 0, inbox: 0 },
        `the killed handler's write of ${id} survived the SIGKILL: its transaction was not rolled back`,
      );
      pending.delete(id);
      killedBy.set(id, pid);
    }
    const { rows, violations, inbox } = await backend.read();
    t.diagnostic(
      `${backend.name} inbox: events ${EVENTS}, kills mid-handler ${killedBy.size}, consumer processes ${processes.length - 1}, applied ${rows.length}, ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    assert.equal(killedBy.size, CHOSEN.length, 'the consumer was killed once in each chosen event');
    assert.deepEqual(
      ledgerProblems(committed, rows, violations),
      [],
      `${backend.name} inbox: ledger problems`,
    );
    assert.equal(inbox, EVENTS, 'inbox records of group mid');
    const byId = new Map(rows.map((r) => [r.event_id, r]));
    for (const [id, pid] of killedBy) {
      assert.notEqual(
        byId.get(id)?.pid,
        pid,
        `event ${id} is recorded as applied by process ${pid}, which was killed inside its handler`,
      );
    }
  } finally {
    await Promise.all(processes.map(killHard));
  }
}

describe('consumer killed with SIGKILL inside a handler, its transaction open', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-mid-handler-'));
    dirs.push(dir);
    return dir;
  };
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('PostgreSQL inbox: each killed event is applied once by the next process, none skipped, in order', {
    timeout: 90_000,
  }, async (t) => {
    const url = process.env['SLUICE_TEST_PG_URL'];
    if (!url)
      throw new Error('SLUICE_TEST_PG_URL is not set: run the tests with `npm test` (it starts PostgreSQL)');
    const backend = await postgresBackend(url);
    try {
      await runKills(backend, tempDir(), t);
    } finally {
      await backend.close();
    }
  });

  it('SQLite inbox: each killed event is applied once by the next process, none skipped, in order', {
    timeout: 90_000,
  }, async (t) => {
    const dir = tempDir();
    const backend = sqliteBackend(dir);
    try {
      await runKills(backend, dir, t);
    } finally {
      await backend.close();
    }
  });
});
