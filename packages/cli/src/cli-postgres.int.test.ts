import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { sleep } from '@sluice/core/adapter';
import { EnrollmentProgressed } from '@sluice/example-enrollments';
import { createPostgresOutbox, fromPg } from '@sluice/postgres';
import { createChangeCapture, dropChangeCapture } from '@sluice/postgres/cdc';
import { openDatabase } from '@sluice/sqlite';
import pg from 'pg';

// `sluice migrate`, `status` and `relay` with `--db postgres://...`, run as child processes (as in
// cli.int.test.ts) against the real PostgreSQL of `eval "$(bash scripts/services postgres)"`. Each test uses a
// schema of its own, dropped afterwards.
import { assertExit, lines, type Run, sluice as run, start as startIn } from './cli-runner.test-support.js';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'sluice-cli-pg-')));

function pgUrl(): string {
  const url = process.env['SLUICE_TEST_PG_URL'];
  if (!url) {
    throw new Error(
      'SLUICE_TEST_PG_URL is not set: run `eval "$(bash scripts/services postgres)"` first (npm test does it)',
    );
  }
  return url;
}

const sluice = (args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<Run> =>
  run(args, { cwd: root, env });
const start = (args: readonly string[], env: Readonly<Record<string, string>> = {}) =>
  startIn(args, { cwd: root, env });

interface Status {
  pending: number;
  oldestPendingAgeMs: number | null;
  relays: { owner: string; partitions: number[] }[];
  partitions: { partition: number; owner: string | null }[];
  unowned: number[];
}

describe('the sluice CLI on PostgreSQL (--db postgres://...)', () => {
  let pool: pg.Pool;
  let url: string;
  let schema: string;

  before(() => {
    url = pgUrl();
    pool = new pg.Pool({ connectionString: url, max: 4 });
    pool.on('error', () => undefined);
  });
  afterEach(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });
  after(async () => {
    await pool?.end();
    rmSync(root, { recursive: true, force: true });
  });

  /** A schema name no other test uses; dropped after the test. */
  const freshSchema = () => {
    schema = `cli_${randomBytes(6).toString('hex')}`;
    return schema;
  };
  const tablesOf = async (name: string) =>
    (
      await pool.query<{ table_name: string }>(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
        [name],
      )
    ).rows.map((r) => r.table_name);
  const schemaExists = async (name: string) =>
    (await pool.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [name]))
      .rowCount === 1;
  const status = async (s: string): Promise<Status> => {
    const run = await sluice(['status', '--db', url, '--schema', s, '--json']);
    assertExit(run, 0, 'status --json');
    return JSON.parse(run.stdout) as Status;
  };

  it("backfill records a request the source's relay picks up, lists it, refuses a bad one and cancels it", async () => {
    const s = freshSchema();
    const capture = { slot: `${s}_slot`, publication: `${s}_pub` };
    await pool.query(`CREATE SCHEMA "${s}"`);
    await pool.query(`CREATE TABLE "${s}".items (id int PRIMARY KEY, label text)`);
    await createChangeCapture(pool, { ...capture, tables: [`${s}.items`], backfillSchema: s });
    try {
      const db = ['--db', url, '--backfill-schema', s];
      const source = `postgres:${capture.slot}`;
      const requested = await sluice([
        'backfill',
        source,
        '--table',
        `${s}.items`,
        '--where',
        'id > 5',
        '--chunk-size',
        '300',
        ...db,
      ]);
      assertExit(requested, 0, 'backfill');
      assert.match(
        requested.stdout,
        new RegExp(`backfill (\\d+) requested: ${s}\\.items where id > 5 into ${source}`),
      );
      const id = /backfill (\d+) requested/.exec(requested.stdout)![1]!;

      const listed = await sluice(['backfill', '--list', source, '--json', ...db]);
      assertExit(listed, 0, 'backfill --list');
      const [request] = lines(listed.stdout).map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(request!['id'], id);
      assert.equal(request!['status'], 'pending');
      assert.equal(request!['where'], 'id > 5');
      assert.equal(request!['chunkSize'], 300);

      const bad = await sluice(['backfill', source, '--table', `${s}.items`, '--where', 'idd > 5', ...db]);
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /where.*idd/s);
      const missing = await sluice(['backfill', source, '--table', `${s}.nothing`, ...db]);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /no primary key/);

      assertExit(await sluice(['backfill', '--cancel', id, ...db]), 0, 'backfill --cancel');
      const again = await sluice(['backfill', '--cancel', id, ...db]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, new RegExp(`no pending backfill with id ${id}`));
      const after = await sluice(['backfill', '--list', ...db]);
      assert.match(after.stdout, new RegExp(`^${id}\\s+cancelled\\s+${source}`, 'm'));
    } finally {
      await dropChangeCapture(pool, capture);
    }
  });

  it('migrate --dry-run prints the CREATE statements and creates nothing', async () => {
    const s = freshSchema();
    const dry = await sluice(['migrate', '--db', url, '--schema', s, '--dry-run']);
    assertExit(dry, 0, 'migrate --dry-run');
    assert.match(dry.stdout, new RegExp(`^CREATE SCHEMA IF NOT EXISTS "${s}"`, 'm'));
    assert.match(dry.stdout, new RegExp(`^CREATE TABLE "${s}"\\.outbox \\(`, 'm'));
    assert.match(dry.stdout, new RegExp(`^CREATE TABLE "${s}"\\.relay_partition \\(`, 'm'));
    assert.match(dry.stdout, /^-- 1: create outbox$/m);
    assert.equal(await schemaExists(s), false, 'the dry run created the schema');
    assert.deepEqual(await tablesOf(s), []);
  });

  it('migrate applies every migration, then is up to date; status reports an empty outbox', async () => {
    const s = freshSchema();
    const first = await sluice(['migrate', '--db', url, '--schema', s]);
    assertExit(first, 0, 'migrate');
    assert.match(first.stdout, new RegExp(`schema ${s}: applied 1 create outbox$`, 'm'));
    assert.ok(lines(first.stdout).length >= 6, first.stdout);
    const password = new URL(url).password;
    if (password) assert.ok(!first.stdout.includes(`:${password}@`), 'the password was printed');
    assert.deepEqual(
      (await tablesOf(s)).filter((t) =>
        ['outbox', 'relay_lease', 'relay_partition', 'relay_member', 'inbox'].includes(t),
      ),
      ['inbox', 'outbox', 'relay_member', 'relay_partition'],
    );

    // The schema from SLUICE_SCHEMA this time.
    const again = await sluice(['migrate', '--db', url], { SLUICE_SCHEMA: s });
    assertExit(again, 0, 'migrate again');
    assert.deepEqual(lines(again.stdout), [lines(again.stdout)[0]]);
    assert.match(again.stdout, new RegExp(`schema ${s}: up to date\\n$`));
    const dryAgain = await sluice(['migrate', '--db', url, '--schema', s, '--dry-run']);
    assertExit(dryAgain, 0, 'migrate --dry-run when up to date');
    assert.match(dryAgain.stdout, /is up to date/);
    assert.doesNotMatch(dryAgain.stdout, /CREATE/);

    {
      const idle = await status(s);
      assert.deepEqual([idle.pending, idle.oldestPendingAgeMs, idle.relays], [0, null, []]);
      assert.equal(idle.partitions.length, 16);
      assert.deepEqual(
        idle.unowned,
        idle.partitions.map((p) => p.partition),
      );
    }
    const text = await sluice(['status', '--db', url, '--schema', s]);
    assertExit(text, 0, 'status');
    assert.match(text.stdout, new RegExp(`^outbox postgres.*schema ${s}$`, 'm'));
    assert.match(text.stdout, /^ {2}pending events +0$/m);
    assert.match(text.stdout, /^ {2}relays +none/m);
  });

  it('migrate with a wrong password: a failed connection to the masked URL, not a failed migration', async () => {
    const s = freshSchema();
    const wrong = new URL(url);
    wrong.password = 'not-the-password-42';
    const run = await sluice(['migrate', '--db', wrong.href, '--schema', s]);
    assertExit(run, 1, 'migrate with a wrong password');
    assert.match(run.stderr, /\[SLUICE_DATABASE_AUTH_FAILED\]/);
    assert.match(run.stderr, /cannot connect to postgres:\/\/[^:@/]+:\*\*\*@/);
    assert.match(run.stderr, /fix the user or password/);
    assert.doesNotMatch(run.stderr, /migration 0|create schema/);
    assert.doesNotMatch(run.stderr + run.stdout, /not-the-password-42/);
    assert.equal(await schemaExists(s), false);
  });

  it('migrate with nothing listening at the URL: SLUICE_DATABASE_UNAVAILABLE naming the masked URL', async () => {
    const s = freshSchema();
    const down = new URL(url);
    down.port = '1';
    down.password = 'closed-port-secret-7';
    const run = await sluice(['migrate', '--db', down.href, '--schema', s]);
    assertExit(run, 1, 'migrate against a closed port');
    assert.match(run.stderr, /\[SLUICE_DATABASE_UNAVAILABLE\]/);
    assert.match(run.stderr, /cannot connect to postgres:\/\/[^:@/]+:\*\*\*@127\.0\.0\.1:1\//);
    assert.doesNotMatch(run.stderr, /migration 0/);
    assert.doesNotMatch(run.stderr + run.stdout, /closed-port-secret-7/);
  });

  it('status and relay on an unmigrated schema exit 1 and say to run `sluice migrate`', async () => {
    const s = freshSchema();
    const run = await sluice(['status', '--db', url, '--schema', s]);
    assertExit(run, 1, 'status before migrate');
    assert.match(run.stderr, /sluice migrate/);
    assert.match(run.stderr, /\[SLUICE_MIGRATION_REQUIRED\]/);
    const relay = await sluice(['relay', '--db', url, '--schema', s, '--log', join(root, 'unused-bus.db')]);
    assertExit(relay, 1, 'relay before migrate');
    assert.match(relay.stderr, /sluice migrate/);
    assert.equal(await schemaExists(s), false);
  });

  it('relay ships 30 events from the PostgreSQL outbox to the log in order per key; SIGTERM exits 0', {
    timeout: 60_000,
  }, async () => {
    const s = freshSchema();
    assertExit(await sluice(['migrate', '--db', url, '--schema', s]), 0, 'migrate');
    const dir = join(root, `relay-${s}`);
    mkdirSync(dir);
    const busFile = join(dir, 'bus.db');

    // 10 keys, 3 events each, written by a service in its own transactions (one per round, keys interleaved).
    const outbox = await createPostgresOutbox(pool, { source: 'urn:test:cli-postgres', schema: s });
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const keys = Array.from({ length: 10 }, () => randomUUID());
    const ids: string[] = [];
    try {
      for (const progress of [10, 50, 100]) {
        await client.query('BEGIN');
        for (const enrollmentId of keys) {
          ids.push(
            (await outbox.append(fromPg(client), EnrollmentProgressed, { enrollmentId, progress })).id,
          );
        }
        await client.query('COMMIT');
      }
    } finally {
      await client.end();
      await outbox.close();
    }
    assert.equal(ids.length, 30);
    assert.equal((await status(s)).pending, 30);

    const relay = start([
      'relay',
      '--db',
      url,
      '--schema',
      s,
      '--log',
      busFile,
      '--contracts',
      import.meta.resolve('@sluice/example-enrollments'),
    ]);
    let stderr = '';
    relay.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      relay.once('close', (code, signal) => resolve([code, signal])),
    );
    try {
      type Row = { partition: number; offset: number; key: string; value: string };
      const readLog = (): Row[] => {
        if (!existsSync(busFile)) return [];
        const db = openDatabase(busFile);
        try {
          const ready = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'sluice_log_records'").get();
          if (!ready) return [];
          return db
            .prepare(
              "SELECT partition, offset, key, value FROM sluice_log_records WHERE topic = 'enrollments' ORDER BY partition, offset",
            )
            .all() as Row[];
        } finally {
          db.close();
        }
      };
      let rows: Row[] = [];
      const deadline = Date.now() + 20_000;
      while (rows.length < ids.length) {
        assert.equal(relay.exitCode, null, `the relay exited early: ${stderr}`);
        assert.ok(
          Date.now() < deadline,
          `only ${rows.length} of ${ids.length} records reached the log: ${stderr}`,
        );
        await sleep(100);
        rows = readLog();
      }
      assert.equal(rows.length, ids.length);
      const events = rows.map(
        (r) =>
          JSON.parse(r.value) as {
            id: string;
            subject: string;
            sequence: unknown;
            data: { progress: number };
          },
      );
      assert.deepEqual(new Set(events.map((e) => e.id)), new Set(ids));
      for (const key of keys) {
        const ofKey = rows.filter((r) => r.key === key);
        assert.equal(new Set(ofKey.map((r) => r.partition)).size, 1, `key ${key} spans partitions`);
        const envelopes = ofKey.map(
          (r) => JSON.parse(r.value) as { subject: string; sluiceseq: unknown; data: { progress: number } },
        );
        assert.deepEqual(
          envelopes.map((e) => Number(e.sluiceseq)),
          [1, 2, 3],
        );
        assert.deepEqual(
          envelopes.map((e) => e.data.progress),
          [10, 50, 100],
        );
        assert.ok(envelopes.every((e) => e.subject === key));
      }

      // Delivered rows are acknowledged (deleted) soon after publishing; the lease is this relay's.
      let current = await status(s);
      while (current.pending !== 0 && Date.now() < deadline) {
        await sleep(100);
        current = await status(s);
      }
      assert.equal(current.pending, 0, JSON.stringify(current));
      assert.equal(current.relays.length, 1, JSON.stringify(current.relays));
      assert.ok(
        current.relays[0]!.owner.includes(`:${relay.pid}:`),
        `lease holder ${current.relays[0]!.owner}, relay pid ${relay.pid}`,
      );
    } finally {
      relay.kill('SIGTERM');
    }
    const [code, signal] = await exited;
    assert.deepEqual([code, signal], [0, null], stderr);
    // Stopping released the lease before the pool was closed.
    {
      const idle = await status(s);
      assert.deepEqual([idle.pending, idle.oldestPendingAgeMs, idle.relays], [0, null, []]);
      assert.equal(idle.partitions.length, 16);
      assert.deepEqual(
        idle.unowned,
        idle.partitions.map((p) => p.partition),
      );
    }
  });
});
