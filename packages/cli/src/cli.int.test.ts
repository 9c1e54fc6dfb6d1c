import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type ConsumeOutcome, createConsumer, encodeEnvelope } from '@sluice/core';
import { envelopeOf, prepareEvent, sleep } from '@sluice/core/adapter';
import { EnrollmentCancelled, EnrollmentCreated, EnrollmentProgressed } from '@sluice/example-enrollments';
import { createLogTransport, createSqliteInbox, createSqliteOutbox, openDatabase } from '@sluice/sqlite';

// The `sluice` command as a user runs it: a child process on the CLI's entry point, with this process's Node
// flags (`--conditions=sluice-source --import tsx`). The loader is resolved from here so that children may run in
// any folder.
import {
  assertExit,
  lines,
  type Run,
  type RunOptions,
  sluice as run,
  start as startIn,
} from './cli-runner.test-support.js';

const ENROLLMENT_TYPES = new Set(['enrollment.created', 'enrollment.progressed', 'enrollment.cancelled']);
const GROUP = 'enrollment-view';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'sluice-cli-')));

/** `sluice <args>` in the suite's folder unless `o.cwd` says otherwise. */
const sluice = (args: readonly string[], o: Partial<RunOptions> = {}): Promise<Run> =>
  run(args, { cwd: root, ...o });
const start = (args: readonly string[], o: Partial<RunOptions> = {}) => startIn(args, { cwd: root, ...o });

interface TailLine {
  topic: string;
  partition: number;
  offset: string;
  key: string;
  event: { id: string; type: string; subject: string; sequence: number; data: Record<string, unknown> };
}

interface Letter {
  eventId: string;
  group: string;
  error: { code: string; message: string };
  attempts: number;
  original: { topic: string; partition: number; offset: string; key: string };
  value: string | null;
}

async function tailJson(log: string, extra: readonly string[] = []): Promise<TailLine[]> {
  const run = await sluice(['tail', 'enrollments', '--log', log, '--no-follow', '--json', ...extra]);
  assertExit(run, 0, 'tail');
  return lines(run.stdout).map((l) => JSON.parse(l) as TailLine);
}

async function dlqList(log: string): Promise<Letter[]> {
  const run = await sluice(['dlq', 'list', '--group', GROUP, '--log', log, '--json']);
  assertExit(run, 0, 'dlq list');
  return lines(run.stdout).map((l) => JSON.parse(l) as Letter);
}

/** Reads the embedded log file directly (not through the CLI), to cross-check what the CLI prints. */
function queryLog<T>(file: string, sql: string, ...params: unknown[]): T[] {
  const db = openDatabase(file);
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/**
 * Dead-letters one event of the demo's group by other means than the demo's random payment failures: publishes
 * a valid `enrollment.cancelled` to the log and runs a consumer of the same group whose handler fails for it.
 */
async function deadLetterOne(dir: string): Promise<string> {
  const bus = createLogTransport({ path: join(dir, 'bus.db') });
  const inboxDb = openDatabase(join(dir, 'extra-inbox.db'));
  const event = prepareEvent(EnrollmentCancelled, { enrollmentId: randomUUID(), reason: 'payment-failed' });
  await bus.publish([
    {
      topic: 'enrollments',
      key: event.key,
      id: event.id,
      value: encodeEnvelope(envelopeOf(event, 'urn:test:cli', 1)),
    },
  ]);
  let settled!: () => void;
  const deadLettered = new Promise<void>((resolve) => {
    settled = resolve;
  });
  const consumer = createConsumer({
    transport: bus,
    group: GROUP,
    inbox: createSqliteInbox(inboxDb, { migrate: true }),
    // Events of the demo this group has not committed yet arrive too: only ours fails.
    handlers: (on) => [
      on(EnrollmentCancelled, (e) => {
        if (e.id === event.id) throw new Error('the test handler fails for this event');
      }),
    ],
    maxAttempts: 1,
    onOutcome: (outcome: ConsumeOutcome) => {
      if (outcome.kind === 'dead-lettered' && outcome.record.key === event.key) settled();
    },
  });
  try {
    await Promise.race([
      deadLettered,
      sleep(15_000).then(() => Promise.reject(new Error('no dead letter within 15 s'))),
    ]);
  } finally {
    await consumer.stop();
    await bus.close();
    inboxDb.close();
  }
  return event.id;
}

describe('the sluice CLI, run as a child process', () => {
  after(() => rmSync(root, { recursive: true, force: true }));

  describe('help and usage errors', () => {
    const commands = ['demo', 'migrate', 'relay', 'status', 'tail', 'replay', 'dlq', 'backfill', 'audit'];

    it('`sluice --help` lists every command and exits 0', async () => {
      const run = await sluice(['--help']);
      assertExit(run, 0, '--help');
      for (const name of commands) assert.match(run.stdout, new RegExp(`^  ${name} +\\S`, 'm'), name);
      assert.match(run.stdout, /Usage: sluice <command>/);
      const short = await sluice(['-h']);
      assertExit(short, 0, '-h');
      assert.equal(short.stdout, run.stdout);
    });

    it('`sluice` with no command prints the overview and exits 2', async () => {
      const run = await sluice([]);
      assertExit(run, 2, 'no command');
      assert.match(run.stdout + run.stderr, /Usage: sluice <command>/);
    });

    it('an unknown command exits 2 with "unknown command"', async () => {
      const run = await sluice(['nope']);
      assertExit(run, 2, 'nope');
      assert.match(run.stderr, /unknown command "nope"/);
      assert.equal(run.stdout, '');
    });

    it("each command's --help exits 0 and names its options and their SLUICE_* variables", async () => {
      const expected: Record<string, { options: string[]; env: string[] }> = {
        demo: {
          options: [
            '--events',
            '--duration',
            '--rollback-rate',
            '--fail-rate',
            '--relay-kills',
            '--dir',
            '--json',
          ],
          env: ['SLUICE_CONFIG'],
        },
        migrate: { options: ['--db', '--dry-run'], env: ['SLUICE_DB', 'SLUICE_CONFIG'] },
        relay: {
          options: ['--db', '--log', '--contracts', '--source', '--batch-size', '--lease-ttl-ms'],
          env: [
            'SLUICE_DB',
            'SLUICE_LOG',
            'SLUICE_CONTRACTS',
            'SLUICE_SOURCE',
            'SLUICE_BATCH_SIZE',
            'SLUICE_LEASE_TTL_MS',
          ],
        },
        status: { options: ['--db', '--json'], env: ['SLUICE_DB'] },
        tail: {
          options: ['--log', '--json', '--from', '--follow', '--no-follow', '--limit'],
          env: ['SLUICE_LOG'],
        },
        replay: {
          options: ['--log', '--group', '--topic', '--to'],
          env: ['SLUICE_LOG', 'SLUICE_GROUP', 'SLUICE_TOPIC'],
        },
        dlq: {
          options: ['--log', '--json', '--group', '--topic', '--id'],
          env: ['SLUICE_LOG', 'SLUICE_GROUP'],
        },
        backfill: {
          options: ['--db', '--table', '--where', '--chunk-size', '--backfill-schema', '--list', '--cancel'],
          env: ['SLUICE_DB', 'SLUICE_BACKFILL_SCHEMA'],
        },
        audit: {
          options: [
            '--topic',
            '--log',
            '--transport',
            '--namespace',
            '--db',
            '--schema',
            '--from-start',
            '--idle-ms',
            '--max-lines',
            '--json',
          ],
          env: [
            'SLUICE_TOPIC',
            'SLUICE_LOG',
            'SLUICE_TRANSPORT',
            'SLUICE_NAMESPACE',
            'SLUICE_DB',
            'SLUICE_MAX_LINES',
          ],
        },
      };
      assert.deepEqual(Object.keys(expected), commands);
      for (const name of commands) {
        const run = await sluice([name, '--help']);
        assertExit(run, 0, `${name} --help`);
        assert.match(run.stdout, new RegExp(`^sluice ${name} — `), name);
        assert.match(run.stdout, new RegExp(`Usage: sluice ${name}`), name);
        for (const flag of [...expected[name]!.options, '--config', '--help']) {
          assert.ok(run.stdout.includes(flag), `${name} --help does not mention ${flag}:\n${run.stdout}`);
        }
        for (const env of expected[name]!.env) {
          assert.ok(
            run.stdout.includes(`[env ${env}]`),
            `${name} --help does not mention ${env}:\n${run.stdout}`,
          );
        }
        assert.equal(run.stderr, '');
      }
    });

    it('an unknown flag exits 2 and names the flag', async () => {
      for (const args of [
        ['status', '--bogus'],
        ['tail', 'enrollments', '--frobnicate=1'],
        ['migrate', '-x'],
        ['dlq', 'list', '--group', 'g', '--no-such-thing'],
      ]) {
        const flag = args[args.length - 1]!;
        const run = await sluice(args);
        assertExit(run, 2, args.join(' '));
        assert.ok(run.stderr.includes(`unknown option ${flag}`), `${args.join(' ')}: ${run.stderr}`);
        assert.match(run.stderr, new RegExp(`sluice ${args[0]} --help`));
      }
    });

    it('a bad option value exits 2 and says what was expected', async () => {
      const notNumber = await sluice(['demo', '--events', 'many']);
      assertExit(notNumber, 2, 'demo --events many');
      assert.match(notNumber.stderr, /--events must be a number, got "many"/);
      const missing = await sluice(['status', '--db']);
      assertExit(missing, 2, 'status --db');
      assert.match(missing.stderr, /option --db needs a value/);
    });

    it('a --transport that names no transport exits 2, like every other usage error', async () => {
      const run = await sluice([
        'tail',
        'enrollments',
        '--transport',
        'amqp://127.0.0.1:5672',
        '--no-follow',
      ]);
      assertExit(run, 2, 'tail --transport amqp://');
      assert.match(run.stderr, /--transport amqp:\/\/127\.0\.0\.1:5672 is not a transport/);
    });

    it('read-only commands on a log that does not exist create nothing and say so (exit 2)', async () => {
      for (const args of [
        ['tail', 'enrollments', '--no-follow'],
        ['dlq', 'list', '--group', 'g'],
        ['audit', '--topic', 'enrollments'],
        ['replay', '--group', 'g', '--topic', 'enrollments', '--to', 'earliest'],
      ]) {
        const log = join(root, `missing-${args[0]}.db`);
        const run = await sluice([...args, '--log', log]);
        assertExit(run, 2, args.join(' '));
        assert.match(
          run.stderr,
          new RegExp(`no embedded log at ${log.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
        );
        assert.equal(existsSync(log), false, `${args[0]} created ${log}`);
      }
    });

    it('tail of a topic the log does not hold names the log and how topics appear (exit 1)', async () => {
      const log = join(root, 'topicless.db');
      const bus = createLogTransport({ path: log });
      await bus.close();
      const run = await sluice(['tail', 'enrolments', '--log', log, '--no-follow']);
      assertExit(run, 1, 'tail of an unknown topic');
      assert.match(
        run.stderr,
        /the embedded log .*topicless\.db has no topic "enrolments": a topic appears when a relay first publishes to it/,
      );
      assert.doesNotMatch(run.stderr, /ensureTopic/);
    });
  });

  describe('demo, then the files it leaves (tail, dlq, replay)', () => {
    const textDir = join(root, 'demo-text');
    const dir = join(root, 'demo');
    const bus = join(dir, 'bus.db');
    let summary:
      | { ok: boolean; committed: number; deadLettered: number; lost: number; dir: string }
      | undefined;

    it('`sluice demo` holds every invariant and prints the summary', { timeout: 120_000 }, async () => {
      mkdirSync(textDir);
      const began = Date.now();
      const run = await sluice(
        ['demo', '--events', '400', '--duration', '2', '--relay-kills', '1', '--dir', textDir],
        { timeoutMs: 90_000 },
      );
      assertExit(run, 0, 'demo');
      // A 2 s demo must end, not hang; the bound is generous so a loaded machine cannot fail it (speed: npm run bench).
      assert.ok(Date.now() - began < 60_000, `the demo took ${Date.now() - began} ms`);
      assert.match(
        run.stdout,
        /^Sluice demo: SQLite outbox -> relay -> embedded log -> consumer with inbox/m,
      );
      assert.match(run.stdout, /^ {2}lost +0$/m);
      assert.match(run.stdout, /^ {2}phantom \(rolled back or invented, yet delivered\) +0$/m);
      assert.match(run.stdout, /^ {2}applied more than once +0$/m);
      assert.match(run.stdout, /^ {2}order violations \(per key\) +0$/m);
      assert.match(run.stdout, /^ {2}relay killed with SIGKILL and restarted +1$/m);
      const committed = Number(/^ {2}committed +(\d+)$/m.exec(run.stdout)?.[1]);
      const rolledBack = Number(
        /^ {2}rolled back \(must never be delivered\) +(\d+)$/m.exec(run.stdout)?.[1],
      );
      assert.equal(committed + rolledBack, 400);
      assert.match(run.stdout, /^All invariants held\.$/m);
      assert.ok(run.stdout.includes(`Files are in ${textDir}`), run.stdout);
      for (const f of ['app.db', 'bus.db', 'consumer.db']) assert.ok(existsSync(join(textDir, f)), f);
    });

    it('`sluice demo --json` prints one parseable summary', { timeout: 120_000 }, async () => {
      mkdirSync(dir);
      const began = Date.now();
      const run = await sluice(
        ['demo', '--events', '400', '--duration', '2', '--relay-kills', '1', '--dir', dir, '--json'],
        { timeoutMs: 90_000 },
      );
      assertExit(run, 0, 'demo --json');
      // A 2 s demo must end, not hang; the bound is generous so a loaded machine cannot fail it (speed: npm run bench).
      assert.ok(Date.now() - began < 60_000, `the demo took ${Date.now() - began} ms`);
      const out = lines(run.stdout);
      assert.equal(out.length, 1, run.stdout);
      summary = JSON.parse(out[0]!) as typeof summary & object;
      assert.equal(summary.ok, true);
      assert.equal(summary.lost, 0);
      assert.equal(summary.dir, dir);
      assert.ok(summary.committed > 0 && summary.committed <= 400);
    });

    it('`sluice tail --no-follow --json` prints every record of the topic, in order per partition', async () => {
      assert.ok(summary, 'the --json demo did not run');
      const records = await tailJson(bus);
      const [{ n }] = queryLog<{ n: number }>(
        bus,
        "SELECT count(*) AS n FROM sluice_log_records WHERE topic = 'enrollments'",
      ) as [{ n: number }];
      assert.equal(records.length, n);
      const last = new Map<number, bigint>();
      for (const r of records) {
        assert.equal(r.topic, 'enrollments');
        assert.ok(ENROLLMENT_TYPES.has(r.event.type), r.event.type);
        assert.equal(r.event.subject, r.key);
        const offset = BigInt(r.offset);
        const before = last.get(r.partition);
        assert.ok(
          before === undefined || offset > before,
          `partition ${r.partition}: ${offset} after ${before}`,
        );
        last.set(r.partition, offset);
      }
      // The relay delivers at least once (it was SIGKILLed), so count distinct ids: exactly the committed events.
      assert.equal(new Set(records.map((r) => r.event.id)).size, summary.committed);

      const five = await tailJson(bus, ['--limit', '5']);
      assert.equal(five.length, 5);
      const plain = await sluice(['tail', 'enrollments', '--log', bus, '--no-follow', '--limit', '5']);
      assertExit(plain, 0, 'tail --limit 5');
      const text = lines(plain.stdout);
      assert.equal(text.length, 5);
      for (const l of text)
        assert.match(l, /^enrollments\/\d+@\d+ \S+ enrollment\.\w+ key=\S+ seq=\d+ id=\S+ \{/);
    });

    it('`sluice dlq list`, `show` and `redrive` work on the demo group', { timeout: 120_000 }, async () => {
      assert.ok(summary, 'the --json demo did not run');
      let letters = await dlqList(bus);
      // The demo counts distinct events. Its closing replay retries the dead-lettered events (the inbox records
      // only applied ones), so an event may be in the dead-letter topic twice (see the report).
      const distinct = new Set(letters.map((l) => l.eventId));
      assert.equal(distinct.size, summary.deadLettered, 'distinct dead letters listed vs the demo summary');
      assert.ok(letters.length <= 2 * summary.deadLettered, `${letters.length} dead letters`);
      const [{ n }] = queryLog<{ n: number }>(
        bus,
        'SELECT count(*) AS n FROM sluice_log_records WHERE topic = ?',
        `${GROUP}.dlq`,
      ) as [{ n: number }];
      assert.equal(letters.length, n);
      const published = new Set((await tailJson(bus)).map((r) => r.event.id));
      for (const l of letters) {
        assert.equal(l.group, GROUP);
        assert.equal(l.original.topic, 'enrollments');
        assert.equal(l.attempts, 3);
        assert.match(l.error.message, /injected failure of enrollment\.cancelled/);
        assert.ok(published.has(l.eventId), `dead letter ${l.eventId} was never published`);
        const envelope = JSON.parse(l.value!) as { id: string; type: string; data: { reason: string } };
        assert.equal(envelope.id, l.eventId);
        assert.equal(envelope.type, 'enrollment.cancelled');
        assert.equal(envelope.data.reason, 'payment-failed');
      }
      const plain = await sluice(['dlq', 'list', '--group', GROUP, '--log', bus]);
      assertExit(plain, 0, 'dlq list');
      if (letters.length === 0) {
        assert.match(plain.stdout, /enrollment-view\.dlq: no dead letters/);
        // This run's random failures dead-lettered nothing: make one deterministically.
        const id = await deadLetterOne(dir);
        letters = await dlqList(bus);
        assert.deepEqual(
          letters.map((l) => l.eventId),
          [id],
        );
      } else {
        assert.match(
          plain.stdout,
          new RegExp(`^enrollment-view\\.dlq: ${letters.length} dead letter\\(s\\)$`, 'm'),
        );
        for (const l of letters) assert.ok(plain.stdout.includes(l.eventId), l.eventId);
      }

      // Prefer an event dead-lettered once: `redrive --id` republishes every copy of it.
      const copiesOf = (id: string) => letters.filter((l) => l.eventId === id).length;
      const letter = letters.find((l) => copiesOf(l.eventId) === 1) ?? letters[0]!;
      const show = await sluice(['dlq', 'show', letter.eventId, '--group', GROUP, '--log', bus]);
      assertExit(show, 0, 'dlq show');
      assert.match(show.stdout, new RegExp(`^event +${letter.eventId}$`, 'm'));
      assert.ok(
        show.stdout.includes(`error      ${letter.error.code}: ${letter.error.message}`),
        show.stdout,
      );
      const envelopeText = show.stdout.slice(show.stdout.indexOf('envelope\n') + 'envelope\n'.length);
      const envelope = JSON.parse(envelopeText) as { id: string; type: string; subject: string };
      assert.equal(envelope.id, letter.eventId);
      assert.equal(envelope.type, 'enrollment.cancelled');
      assert.equal(envelope.subject, letter.original.key);
      const showJson = await sluice([
        'dlq',
        'show',
        letter.eventId,
        '--group',
        GROUP,
        '--log',
        bus,
        '--json',
      ]);
      assertExit(showJson, 0, 'dlq show --json');
      assert.deepEqual(JSON.parse(showJson.stdout), letter);

      const copies = async () => (await tailJson(bus)).filter((r) => r.event.id === letter.eventId);
      const before = await copies();
      assert.ok(before.length >= 1);
      const redrive = await sluice([
        'dlq',
        'redrive',
        '--group',
        GROUP,
        '--id',
        letter.eventId,
        '--log',
        bus,
      ]);
      assertExit(redrive, 0, 'dlq redrive');
      assert.ok(redrive.stdout.includes(`redriven ${letter.eventId} to enrollments`), redrive.stdout);
      assert.match(
        redrive.stdout,
        new RegExp(`^${copiesOf(letter.eventId)} dead letter\\(s\\) redriven\\.`, 'm'),
      );
      const afterRedrive = await copies();
      assert.equal(afterRedrive.length, before.length + copiesOf(letter.eventId));
      const republished = afterRedrive.find((r) => !before.some((b) => b.offset === r.offset))!;
      assert.equal(republished.key, letter.original.key);
      assert.equal(republished.event.type, 'enrollment.cancelled');
      // The dead letter stays listed (redrive copies it back).
      assert.equal((await dlqList(bus)).length, letters.length);

      const unknown = await sluice(['dlq', 'show', randomUUID(), '--group', GROUP, '--log', bus]);
      assertExit(unknown, 1, 'dlq show <unknown>');
      assert.match(unknown.stderr, /no dead letter with event id/);
      const redriveUnknown = await sluice(['dlq', 'redrive', '--group', GROUP, '--id', 'nope', '--log', bus]);
      assertExit(redriveUnknown, 1, 'dlq redrive --id <unknown>');
      assert.match(redriveUnknown.stderr, /no pending dead letter with event id nope/);
      const noAction = await sluice(['dlq', '--group', GROUP, '--log', bus]);
      assertExit(noAction, 2, 'dlq without an action');
      assert.match(noAction.stderr, /list \| show <event-id> \| redrive/);
    });

    it("`sluice replay` moves a group's positions; a position it cannot read exits 2", async () => {
      assert.ok(summary, 'the --json demo did not run');
      const offsets = () =>
        new Map(
          queryLog<{ partition: number; next_offset: number }>(
            bus,
            "SELECT partition, next_offset FROM sluice_log_offsets WHERE group_name = 'g' AND topic = 'enrollments'",
          ).map((r) => [r.partition, r.next_offset]),
        );
      const ends = queryLog<{ partition: number; next_offset: number }>(
        bus,
        "SELECT partition, next_offset FROM sluice_log_partitions WHERE topic = 'enrollments'",
      );
      assert.equal(ends.length, 8);

      const earliest = await sluice([
        'replay',
        '--group',
        'g',
        '--topic',
        'enrollments',
        '--to',
        'earliest',
        '--log',
        bus,
      ]);
      assertExit(earliest, 0, 'replay --to earliest');
      assert.match(earliest.stdout, /group g will read enrollments from earliest/);
      const firsts = new Map(
        queryLog<{ partition: number; first: number }>(
          bus,
          "SELECT partition, min(offset) AS first FROM sluice_log_records WHERE topic = 'enrollments' GROUP BY partition",
        ).map((r) => [r.partition, r.first]),
      );
      assert.deepEqual(
        offsets(),
        new Map(ends.map((e) => [e.partition, firsts.get(e.partition) ?? e.next_offset])),
      );

      const latest = await sluice([
        'replay',
        '--group',
        'g',
        '--topic',
        'enrollments',
        '--to',
        'latest',
        '--log',
        bus,
      ]);
      assertExit(latest, 0, 'replay --to latest');
      assert.deepEqual(offsets(), new Map(ends.map((e) => [e.partition, e.next_offset])));

      const one = await sluice([
        'replay',
        '--group',
        'g',
        '--topic',
        'enrollments',
        '--to',
        '3:1',
        '--log',
        bus,
      ]);
      assertExit(one, 0, 'replay --to 3:1');
      assert.equal(offsets().get(3), 1);
      assert.equal(offsets().get(2), ends.find((e) => e.partition === 2)!.next_offset);

      const garbage = await sluice([
        'replay',
        '--group',
        'g',
        '--topic',
        'enrollments',
        '--to',
        'garbage',
        '--log',
        bus,
      ]);
      assertExit(garbage, 2, 'replay --to garbage');
      assert.match(
        garbage.stderr,
        /cannot read "garbage" as a position: use earliest, latest, an ISO time, or PARTITION:OFFSET/,
      );
      const missing = await sluice(['replay', '--group', 'g', '--topic', 'enrollments', '--log', bus]);
      assertExit(missing, 2, 'replay without --to');
      assert.match(missing.stderr, /--to is required/);
    });

    it('`sluice tail | head` ends quietly when the reader closes the pipe', {}, async () => {
      assert.ok(summary, 'the --json demo did not run');
      const child = start(['tail', 'enrollments', '--log', bus, '--no-follow', '--json']);
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      child.stdout.once('data', () => child.stdout.destroy());
      const [code] = await new Promise<[number | null]>((resolve) =>
        child.once('close', (c) => resolve([c])),
      );
      const crash = stderr.split('\n').find((l) => l.startsWith('Error')) ?? stderr;
      assert.equal(code, 0, `exit ${code}: ${crash}`);
      assert.equal(stderr, '');
    });
  });

  describe('migrate and status', () => {
    it('--dry-run prints the SQL and applies nothing; migrate applies once; status then reports', async () => {
      const dir = join(root, 'migrate');
      mkdirSync(dir);
      const db = join(dir, 'app.db');

      const dry = await sluice(['migrate', '--db', db, '--dry-run']);
      assertExit(dry, 0, 'migrate --dry-run');
      assert.match(dry.stdout, /^CREATE TABLE sluice_outbox \(/m);
      assert.match(dry.stdout, /^-- 1: create sluice_outbox$/m);

      const unmigrated = await sluice(['status', '--db', db]);
      assertExit(unmigrated, 1, 'status before migrate');
      assert.match(unmigrated.stderr, /run `sluice migrate`/);
      assert.ok(unmigrated.stderr.includes(db), unmigrated.stderr);
      assert.match(unmigrated.stderr, /\[SLUICE_MIGRATION_REQUIRED\]/);

      const first = await sluice(['migrate', '--db', db]);
      assertExit(first, 0, 'migrate');
      assert.ok(first.stdout.includes(`${db}: applied 1 create sluice_outbox`), first.stdout);
      const applied = lines(first.stdout).length;
      assert.ok(applied >= 4, first.stdout);

      const again = await sluice(['migrate', '--db', db]);
      assertExit(again, 0, 'migrate again');
      assert.equal(again.stdout, `${db}: up to date\n`);
      const dryAgain = await sluice(['migrate', '--db', db, '--dry-run']);
      assertExit(dryAgain, 0, 'migrate --dry-run when up to date');
      assert.match(dryAgain.stdout, /is up to date/);

      const json = await sluice(['status', '--db', db, '--json']);
      assertExit(json, 0, 'status --json');
      const status = JSON.parse(json.stdout) as { pending: number; relays: unknown[] };
      assert.equal(status.pending, 0);
      assert.deepEqual(status.relays, []);
      const text = await sluice(['status', '--db', db]);
      assertExit(text, 0, 'status');
      assert.match(text.stdout, /^ {2}pending events +0$/m);
      assert.match(text.stdout, /^ {2}relays +none/m);
    });
  });

  describe('option precedence', () => {
    it('a flag wins over SLUICE_* variables, which win over sluice.config.json', async () => {
      const dir = join(root, 'precedence');
      mkdirSync(dir);
      for (const name of ['A.db', 'B.db', 'C.db', 'D.db']) {
        assertExit(await sluice(['migrate', '--db', join(dir, name)]), 0, `migrate ${name}`);
      }
      writeFileSync(join(dir, 'sluice.config.json'), JSON.stringify({ db: 'B.db' }));
      writeFileSync(join(dir, 'other.json'), JSON.stringify({ db: 'D.db' }));
      const used = async (args: string[], env: Record<string, string> = {}) => {
        const run = await sluice(['status', ...args], { cwd: dir, env });
        assertExit(run, 0, `status ${args.join(' ')} ${JSON.stringify(env)}`);
        return /^outbox (.*)$/m.exec(run.stdout)?.[1];
      };
      assert.equal(await used([], { SLUICE_DB: join(dir, 'A.db') }), join(dir, 'A.db'));
      assert.equal(await used([]), join(dir, 'B.db'));
      assert.equal(await used(['--db', 'C.db'], { SLUICE_DB: join(dir, 'A.db') }), join(dir, 'C.db'));
      assert.equal(await used(['--db=C.db']), join(dir, 'C.db'));
      // Another config file, by flag or by SLUICE_CONFIG; an empty variable counts as unset.
      assert.equal(await used(['--config', 'other.json']), join(dir, 'D.db'));
      assert.equal(await used([], { SLUICE_CONFIG: 'other.json' }), join(dir, 'D.db'));
      assert.equal(await used([], { SLUICE_DB: '' }), join(dir, 'B.db'));

      const missing = await sluice(['status', '--config', 'missing.json'], { cwd: dir });
      assertExit(missing, 2, 'status --config missing.json');
      assert.match(missing.stderr, /config file .*missing\.json does not exist/);
      writeFileSync(join(dir, 'broken.json'), '[1, 2]');
      const broken = await sluice(['status', '--config', 'broken.json'], { cwd: dir });
      assertExit(broken, 2, 'status --config broken.json');
      assert.match(broken.stderr, /is not a JSON object of options/);
    });
  });

  describe('relay', () => {
    it('ships pending outbox rows to the log, in order per key, and stops on SIGTERM with exit 0', {
      timeout: 60_000,
    }, async () => {
      const dir = join(root, 'relay');
      mkdirSync(dir);
      const appFile = join(dir, 'app.db');
      const busFile = join(dir, 'bus.db');
      const app = openDatabase(appFile);
      const outbox = createSqliteOutbox(app, { source: 'urn:test:cli', migrate: true });
      const ids: string[] = [];
      const keys: string[] = [];
      for (let k = 0; k < 10; k++) {
        const enrollmentId = randomUUID();
        keys.push(enrollmentId);
        app.transaction(() => {
          ids.push(
            outbox.append(app, EnrollmentCreated, {
              enrollmentId,
              courseId: 'C-101',
              studentId: `S-${k}`,
              enrolledAt: new Date().toISOString(),
            }).id,
          );
        })();
        ids.push(outbox.append(app, EnrollmentProgressed, { enrollmentId, progress: 50 }).id);
        ids.push(outbox.append(app, EnrollmentCancelled, { enrollmentId, reason: 'student-request' }).id);
      }
      app.close();

      const pending = await sluice(['status', '--db', appFile, '--json']);
      assertExit(pending, 0, 'status before the relay');
      assert.equal((JSON.parse(pending.stdout) as { pending: number }).pending, ids.length);

      const relay = start([
        'relay',
        '--db',
        appFile,
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
        let rows: Row[] = [];
        const deadline = Date.now() + 20_000;
        while (rows.length < ids.length) {
          assert.equal(relay.exitCode, null, `the relay exited early: ${stderr}`);
          assert.ok(
            Date.now() < deadline,
            `only ${rows.length} of ${ids.length} records reached the log: ${stderr}`,
          );
          await sleep(100);
          if (!existsSync(busFile)) continue;
          const ready = queryLog(busFile, "SELECT 1 FROM sqlite_master WHERE name = 'sluice_log_records'");
          if (ready.length === 0) continue;
          rows = queryLog<Row>(
            busFile,
            "SELECT partition, offset, key, value FROM sluice_log_records WHERE topic = 'enrollments' ORDER BY partition, offset",
          );
        }
        assert.equal(rows.length, ids.length);
        const events = rows.map(
          (r) => JSON.parse(r.value) as { id: string; subject: string; sluiceseq: unknown },
        );
        assert.deepEqual(new Set(events.map((e) => e.id)), new Set(ids));
        for (const key of keys) {
          const ofKey = rows.filter((r) => r.key === key);
          assert.equal(new Set(ofKey.map((r) => r.partition)).size, 1, `key ${key} spans partitions`);
          assert.deepEqual(
            ofKey.map((r) => Number((JSON.parse(r.value) as { sluiceseq: unknown }).sluiceseq)),
            [1, 2, 3],
          );
        }
        const tail = await tailJson(busFile);
        assert.deepEqual(tail.map((t) => t.event.id).sort(), [...ids].sort());

        const running = await sluice(['status', '--db', appFile, '--json']);
        assertExit(running, 0, 'status while the relay runs');
        const status = JSON.parse(running.stdout) as { pending: number; relays: { owner: string }[] };
        assert.equal(status.pending, 0);
        assert.equal(status.relays.length, 1, JSON.stringify(status.relays));
        assert.ok(
          status.relays[0]!.owner.includes(`:${relay.pid}:`),
          `lease holder ${status.relays[0]!.owner}, relay pid ${relay.pid}`,
        );
      } finally {
        relay.kill('SIGTERM');
      }
      const [code, signal] = await exited;
      assert.deepEqual([code, signal], [0, null], stderr);
    });
  });

  describe('error paths', () => {
    it('a file that cannot be opened fails with exit 1, not labelled as a handler error', {}, async () => {
      const run = await sluice(['status', '--db', join(root, 'no-such-dir', 'app.db')]);
      assertExit(run, 1, 'status --db no-such-dir/app.db');
      assert.match(run.stderr, /^sluice status: .*does not exist: run `sluice migrate` with --db/);
      assert.doesNotMatch(run.stderr, /SLUICE_HANDLER_ERROR/);
    });

    it('--transport: an unknown scheme is refused and names the accepted ones', {}, async () => {
      const bogus = await sluice([
        'tail',
        'enrollments',
        '--transport',
        'amqp://127.0.0.1:5672',
        '--no-follow',
      ]);
      assert.notEqual(bogus.code, 0);
      assert.match(
        bogus.stderr,
        /--transport amqp:\/\/127\.0\.0\.1:5672 is not a transport: use embedded, nats:\/\/HOST:PORT, redis:\/\/HOST:PORT or kafka:\/\/HOST:PORT/,
      );
    });

    it('`sluice demo --dir` creates the folder it is given', {
      timeout: 120_000,
    }, async () => {
      const dir = join(root, 'demo-new', 'nested');
      const run = await sluice(
        ['demo', '--events', '20', '--duration', '0.2', '--relay-kills', '0', '--dir', dir, '--json'],
        { timeoutMs: 90_000 },
      );
      assertExit(run, 0, 'demo --dir <new folder>');
      assert.equal((JSON.parse(run.stdout) as { ok: boolean }).ok, true);
      assert.ok(existsSync(join(dir, 'bus.db')));
    });

    it('status and migrate --dry-run do not create a database that does not exist', {}, async () => {
      const dir = join(root, 'no-create');
      mkdirSync(dir);
      const status = await sluice(['status', '--db', join(dir, 'typo.db')]);
      assertExit(status, 1, 'status --db typo.db');
      const dry = await sluice(['migrate', '--db', join(dir, 'new.db'), '--dry-run']);
      assertExit(dry, 0, 'migrate --dry-run');
      assert.match(dry.stdout, /^CREATE TABLE sluice_outbox \(/m);
      assert.deepEqual(readdirSync(dir), []);
    });
  });
});
