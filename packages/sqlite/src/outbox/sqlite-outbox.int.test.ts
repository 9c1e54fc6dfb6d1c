import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  ContractViolationError,
  decodeEnvelope,
  defineEvent,
  defineKey,
  defineTopic,
  InvalidOptionError,
  MigrationRequiredError,
  type OutboxStore,
} from '@sluice/core';
import type { OutboxRow } from '@sluice/core/adapter';
import { z } from 'zod';
import { LATEST_VERSION, migrate, schemaVersion } from '../migrations/migrate.js';
import { openDatabase, type SqliteDatabase } from '../open-database.js';
import { createSqliteOutbox } from './sqlite-outbox.js';

const SOURCE = 'urn:service:courses';
const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const CourseId = defineKey('courseId', z.string().regex(/^C-\d+$/), {
  description: 'A course in the catalogue',
});
const courses = defineTopic({ name: 'courses', kind: 'event', partitions: 4 });
const audit = defineTopic({ name: 'course-audit', kind: 'event', partitions: 2 });

const CourseCreated = defineEvent({
  type: 'course.created',
  version: 1,
  key: CourseId,
  schema: z.object({ courseId: z.string(), title: z.string().min(1), seats: z.number().int().default(30) }),
  topic: courses,
  description: 'A course was created',
});

const CourseAudited = defineEvent({
  type: 'course.audited',
  version: 1,
  key: CourseId,
  schema: z.object({ courseId: z.string() }),
  topic: audit,
  description: 'A course was audited',
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let dir: string;
let file: string;
let opened: SqliteDatabase[];

/** Opens a connection to the test's database file; closed after the test. */
function open(path = file): SqliteDatabase {
  const db = openDatabase(path);
  opened.push(db);
  return db;
}

/** A migrated connection with a business table. */
function app(): SqliteDatabase {
  const db = open();
  migrate(db);
  db.exec('CREATE TABLE IF NOT EXISTS course (id TEXT PRIMARY KEY, title TEXT NOT NULL)');
  return db;
}

function count(db: SqliteDatabase, table: string): number {
  return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-outbox-'));
  file = join(dir, 'app.db');
  opened = [];
});

afterEach(() => {
  for (const db of opened) if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SqliteOutbox: migrations', () => {
  it('refuses an unmigrated database with MigrationRequiredError telling to run `sluice migrate`', () => {
    const db = open();
    assert.throws(
      () => createSqliteOutbox(db, { source: SOURCE }),
      (e: unknown) => {
        assert.ok(e instanceof MigrationRequiredError, String(e));
        assert.equal(e.code, 'SLUICE_MIGRATION_REQUIRED');
        assert.ok(e.message.includes('sluice_outbox'), e.message);
        assert.ok(e.message.includes(file), e.message);
        assert.ok(e.message.includes('run `sluice migrate`'), e.message);
        assert.ok(e.message.includes('`migrate: true`'), e.message);
        return true;
      },
    );
    // Nothing was created behind the caller's back.
    assert.equal(schemaVersion(db), 0);
  });

  it('refuses a database at an older schema version, saying which', () => {
    const db = open();
    migrate(db);
    db.exec('DELETE FROM sluice_migrations WHERE version > 2');
    assert.throws(
      () => createSqliteOutbox(db, { source: SOURCE }),
      /is at schema version 2, this Sluice needs \d+: run `sluice migrate`/,
    );
  });

  it('migrates with `migrate: true`, idempotently', () => {
    const db = open();
    const outbox = createSqliteOutbox(db, { source: SOURCE, migrate: true });
    assert.equal(schemaVersion(db), LATEST_VERSION);
    assert.equal(count(db, 'sluice_migrations'), LATEST_VERSION);
    // A second migrate applies nothing, and a second outbox with migrate: true is fine.
    assert.deepEqual(migrate(db), []);
    assert.doesNotThrow(() => createSqliteOutbox(db, { source: SOURCE, migrate: true }));
    assert.equal(count(db, 'sluice_migrations'), LATEST_VERSION);
    // The migrated outbox works, and another connection sees the migrated schema.
    assert.equal(outbox.append(db, CourseCreated, { courseId: 'C-1', title: 'Algebra' }).sequence, 1);
    assert.doesNotThrow(() => createSqliteOutbox(open(), { source: SOURCE }));
  });

  it('validates its options, naming the field', () => {
    const db = app();
    assert.throws(
      () => createSqliteOutbox(db, { source: 'courses service' }),
      (e: unknown) => e instanceof InvalidOptionError && /`source`/.test(e.message),
    );
    assert.throws(
      () => createSqliteOutbox(db, { source: SOURCE, pollIntervalMs: 0 }),
      /option `pollIntervalMs`/,
    );
  });

  it('reports a missing migration when appending through a connection to an unmigrated file', () => {
    const outbox = createSqliteOutbox(app(), { source: SOURCE });
    const other = open(join(dir, 'other.db'));
    assert.throws(
      () => outbox.append(other, CourseCreated, { courseId: 'C-1', title: 'x' }),
      MigrationRequiredError,
    );
  });
});

describe('SqliteOutbox: append in the caller transaction', () => {
  it('writes the event with a full envelope and returns id, key and sequence', async () => {
    const db = app();
    const outbox = createSqliteOutbox(db, { source: SOURCE });
    const r = outbox.append(
      db,
      CourseCreated,
      { courseId: 'C-7', title: 'Physics' },
      { correlationid: 'op-1', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    );
    assert.equal(r.key, 'C-7');
    assert.equal(r.sequence, 1);
    const rows = (await outbox.readPending(undefined, 10)).rows;
    assert.equal(rows.length, 1);
    const row = rows[0]!;
    assert.equal(row.id, r.id);
    assert.equal(row.topic, 'courses');
    assert.equal(row.key, 'C-7');
    const e = decodeEnvelope(row.value);
    assert.equal(e.id, r.id);
    assert.equal(e.source, SOURCE);
    assert.equal(e.type, 'course.created');
    assert.equal(e.subject, 'C-7');
    assert.equal(e.sluiceseq, 1);
    assert.equal(e.dataschema, CourseCreated.dataschema);
    assert.equal(e.correlationid, 'op-1');
    assert.equal(e.causationid, undefined);
    assert.deepEqual(e.data, { courseId: 'C-7', title: 'Physics', seats: 30 });
  });

  it('a rollback leaves no outbox row and does not consume a sequence number', async () => {
    const db = app();
    const outbox = createSqliteOutbox(db, { source: SOURCE });
    const createCourse = db.transaction((id: string, title: string, fail: boolean) => {
      db.prepare('INSERT INTO course (id, title) VALUES (?, ?)').run(id, title);
      const r = outbox.append(db, CourseCreated, { courseId: id, title });
      if (fail) throw new Error('business rule failed after append');
      return r;
    });
    assert.throws(() => createCourse('C-1', 'Algebra', true), /business rule failed after append/);
    assert.equal(count(db, 'course'), 0);
    assert.equal(count(db, 'sluice_outbox'), 0);
    assert.equal(count(db, 'sluice_outbox_sequence'), 0);
    assert.deepEqual((await outbox.readPending(undefined, 10)).rows, []);
    // The next append of that key is sequence 1: the rolled-back one left no gap.
    assert.equal(createCourse('C-1', 'Algebra', false).sequence, 1);
    assert.equal(createCourse('C-2', 'Biology', false).sequence, 1);
    assert.throws(() => createCourse('C-3', 'Chemistry', true));
    // C-1 again: sequence 2 even though a rollback happened in between.
    db.prepare('DELETE FROM course').run();
    assert.equal(createCourse('C-1', 'Algebra again', false).sequence, 2);
    const envelopes = (await outbox.readPending(undefined, 10)).rows.map((r) => decodeEnvelope(r.value));
    assert.deepEqual(
      envelopes.map((e) => [e.subject, e.sluiceseq]),
      [
        ['C-1', 1],
        ['C-2', 1],
        ['C-1', 2],
      ],
    );
  });

  it('another connection (the relay) does not see the row before commit and does after', async () => {
    const db = app();
    const outbox = createSqliteOutbox(db, { source: SOURCE });
    const relayDb = open();
    const relay = createSqliteOutbox(relayDb, { source: SOURCE });

    db.exec('BEGIN');
    const r = outbox.append(db, CourseCreated, { courseId: 'C-1', title: 'Algebra' });
    assert.deepEqual((await relay.readPending(undefined, 10)).rows, []);
    assert.equal((await relay.stats()).pending, 0);
    db.exec('COMMIT');
    const rows = (await relay.readPending(undefined, 10)).rows;
    assert.deepEqual(
      rows.map((row) => row.id),
      [r.id],
    );

    // The same inside db.transaction(): invisible until the function returns.
    let seenInside: OutboxRow[] | undefined;
    const p = db.transaction(() => {
      outbox.append(db, CourseCreated, { courseId: 'C-2', title: 'Biology' });
      seenInside = relayDb.prepare('SELECT * FROM sluice_outbox WHERE key = ?').all('C-2') as OutboxRow[];
    });
    p();
    assert.deepEqual(seenInside, []);
    assert.equal((await relay.readPending(String(rows[0]!.position), 10)).rows.length, 1);
  });

  it('readPending on the appending connection returns only committed rows', async () => {
    // The outbox may be read "on this or another connection": on this one, an open transaction's rows are
    // visible to SQL, but they are not committed and may still roll back, so a relay must not get them.
    const db = app();
    const outbox = createSqliteOutbox(db, { source: SOURCE });
    db.exec('BEGIN');
    outbox.append(db, CourseCreated, { courseId: 'C-1', title: 'Algebra' });
    const seen = (await outbox.readPending(undefined, 10)).rows;
    db.exec('ROLLBACK');
    assert.deepEqual(seen, [], 'readPending returned a row of a transaction that then rolled back');
  });

  it('appends outside a transaction in a transaction of its own', async () => {
    const db = app();
    const outbox = createSqliteOutbox(db, { source: SOURCE });
    outbox.append(db, CourseCreated, { courseId: 'C-1', title: 'Algebra' });
    assert.equal(db.inTransaction, false);
    const relay = createSqliteOutbox(open(), { source: SOURCE });
    assert.equal((await relay.readPending(undefined, 10)).rows.length, 1);
  });

  it('numbers events 1, 2, 3 per (source, topic, key), without gaps, independently', async () => {
    const db = app();
    const outbox = createSqliteOutbox(db, { source: SOURCE });
    const other = createSqliteOutbox(db, { source: 'urn:service:other' });
    const seq = (o: typeof outbox, c: typeof CourseCreated | typeof CourseAudited, key: string) =>
      c === CourseAudited
        ? o.append(db, CourseAudited, { courseId: key }).sequence
        : o.append(db, CourseCreated, { courseId: key, title: 't' }).sequence;

    assert.equal(seq(outbox, CourseCreated, 'C-1'), 1);
    assert.equal(seq(outbox, CourseCreated, 'C-2'), 1);
    assert.equal(seq(outbox, CourseCreated, 'C-1'), 2);
    // Several appends in one transaction get consecutive numbers.
    const inOne = db.transaction(() => [
      seq(outbox, CourseCreated, 'C-1'),
      seq(outbox, CourseCreated, 'C-2'),
    ]);
    assert.deepEqual(inOne(), [3, 2]);
    // Another topic, another source: their own sequences.
    assert.equal(seq(outbox, CourseAudited, 'C-1'), 1);
    assert.equal(seq(other, CourseCreated, 'C-1'), 1);
    assert.equal(seq(outbox, CourseCreated, 'C-1'), 4);

    // What is stored on the wire matches.
    const bySubject = new Map<string, number[]>();
    for (const row of (await outbox.readPending(undefined, 100)).rows) {
      const e = decodeEnvelope(row.value);
      const k = `${e.source}|${row.topic}|${e.subject}`;
      bySubject.set(k, [...(bySubject.get(k) ?? []), e.sluiceseq]);
    }
    assert.deepEqual(Object.fromEntries(bySubject), {
      'urn:service:courses|courses|C-1': [1, 2, 3, 4],
      'urn:service:courses|courses|C-2': [1, 2],
      'urn:service:courses|course-audit|C-1': [1],
      'urn:service:other|courses|C-1': [1],
    });
  });

  it('an invalid event throws ContractViolationError and writes nothing; the business row rolls back too', async () => {
    const db = app();
    const outbox = createSqliteOutbox(db, { source: SOURCE });
    const createCourse = db.transaction((id: string, title: string) => {
      db.prepare('INSERT INTO course (id, title) VALUES (?, ?)').run(id, title);
      return outbox.append(db, CourseCreated, { courseId: id, title });
    });

    assert.throws(
      () => createCourse('C-1', ''),
      (e: unknown) => {
        assert.ok(e instanceof ContractViolationError, String(e));
        assert.equal(e.eventType, 'course.created');
        assert.equal(e.issues[0]!.path, 'title');
        assert.match(e.message, /Nothing was written/);
        return true;
      },
    );
    // The key must satisfy the key type.
    assert.throws(
      () => createCourse('course-1', 'Algebra'),
      (e: unknown) => e instanceof ContractViolationError && e.issues[0]!.path === 'courseId',
    );
    // Outside a transaction as well.
    assert.throws(
      () => outbox.append(db, CourseCreated, { courseId: 'C-9' } as never),
      ContractViolationError,
    );

    assert.equal(count(db, 'course'), 0);
    assert.equal(count(db, 'sluice_outbox'), 0);
    assert.equal(count(db, 'sluice_outbox_sequence'), 0);
    assert.equal(createCourse('C-1', 'Algebra').sequence, 1);
  });
});

describe('SqliteOutbox: relay side', () => {
  it('readPending(after, limit) returns rows in position order, after the cursor, up to the limit', async () => {
    const db = app();
    const outbox = createSqliteOutbox(db, { source: SOURCE });
    const ids = ['C-1', 'C-2', 'C-3', 'C-1', 'C-2'].map(
      (k) => outbox.append(db, CourseCreated, { courseId: k, title: 't' }).id,
    );
    const all = (await outbox.readPending(undefined, 100)).rows;
    assert.deepEqual(
      all.map((r) => r.id),
      ids,
    );
    for (let i = 1; i < all.length; i++) assert.ok(all[i]!.position > all[i - 1]!.position);

    const first = (await outbox.readPending(undefined, 2)).rows;
    assert.deepEqual(
      first.map((r) => r.id),
      ids.slice(0, 2),
    );
    const next = (await outbox.readPending(String(first[1]!.position), 2)).rows;
    assert.deepEqual(
      next.map((r) => r.id),
      ids.slice(2, 4),
    );
    const rest = (await outbox.readPending(String(next[1]!.position), 2)).rows;
    assert.deepEqual(
      rest.map((r) => r.id),
      ids.slice(4),
    );
    assert.deepEqual((await outbox.readPending(String(all[4]!.position), 10)).rows, []);
  });

  it('acknowledge deletes exactly the given rows, idempotently, and positions are never reused', async () => {
    const db = app();
    const outbox = createSqliteOutbox(db, { source: SOURCE });
    for (let i = 1; i <= 5; i++) outbox.append(db, CourseCreated, { courseId: `C-${i}`, title: 't' });
    const rows = (await outbox.readPending(undefined, 10)).rows;
    await outbox.acknowledge([rows[1]!, rows[3]!]);
    assert.deepEqual(
      (await outbox.readPending(undefined, 10)).rows.map((r) => r.key),
      ['C-1', 'C-3', 'C-5'],
    );
    await outbox.acknowledge([rows[1]!, rows[3]!]);
    await outbox.acknowledge([]);
    assert.equal((await outbox.readPending(undefined, 10)).rows.length, 3);

    await outbox.acknowledge(rows);
    assert.deepEqual((await outbox.readPending(undefined, 10)).rows, []);
    // A relay keeps its cursor at the last position it read: a new row must come after it.
    outbox.append(db, CourseCreated, { courseId: 'C-6', title: 't' });
    const after = (await outbox.readPending(String(rows[4]!.position), 10)).rows;
    assert.deepEqual(
      after.map((r) => r.key),
      ['C-6'],
    );
  });

  it('listRows pages through the rows of one topic: pending ones and the kept delivered row; listChains its counters', async () => {
    const db = app();
    const outbox = createSqliteOutbox(db, { source: SOURCE });
    const appended = ['C-1', 'C-2', 'C-1', 'C-3'].map((k) =>
      outbox.append(db, CourseCreated, { courseId: k, title: 't' }),
    );
    outbox.append(db, CourseAudited, { courseId: 'C-1' });
    const pending = (await outbox.readPending(undefined, 10)).rows;
    // The first two are delivered: deleted. The last (another topic) too: it is kept, marked delivered.
    await outbox.acknowledge([pending[0]!, pending[1]!, pending[4]!]);
    const list = async (topic: string, limit: number) => {
      const rows = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await outbox.listRows(topic, cursor, limit);
        rows.push(...page.rows);
        cursor = page.cursor;
        pages++;
      } while (cursor !== undefined);
      return { rows, pages };
    };
    const courses = await list('courses', 1);
    assert.deepEqual(
      courses.rows.map((r) => [r.id, r.source, r.key, r.sequence, r.delivered]),
      appended.slice(2).map((a) => [a.id, SOURCE, a.key, a.sequence, false]),
    );
    assert.equal(courses.pages, 3, 'one row per page, then an empty last page');
    assert.deepEqual(
      (await list('course-audit', 10)).rows.map((r) => [r.key, r.sequence, r.delivered]),
      [['C-1', 1, true]],
    );
    assert.deepEqual((await list('nothing', 10)).rows, []);
    // Every chain the outbox counted, delivered or not, paged by source and key.
    const first = await outbox.listChains('courses', undefined, 2);
    const rest = await outbox.listChains('courses', first.cursor, 2);
    assert.equal(rest.cursor, undefined);
    assert.deepEqual(
      [...first.chains, ...rest.chains].map((c) => [c.source, c.key, c.appended]),
      [
        [SOURCE, 'C-1', 2],
        [SOURCE, 'C-2', 1],
        [SOURCE, 'C-3', 1],
      ],
    );
    assert.deepEqual((await outbox.listChains('course-audit', undefined, 10)).chains, [
      { source: SOURCE, key: 'C-1', appended: 1 },
    ]);
  });

  it('leases: a second owner is refused while the lease is live, takes over after expiry or release', async () => {
    app();
    const held = async (o: OutboxStore, owner: string, ttl: number) => {
      const lease = await o.acquireLease(owner, ttl);
      assert.equal(lease.partitionCount, 1, 'one lease for the whole SQLite outbox');
      return lease.partitions.length === 1;
    };
    const a = createSqliteOutbox(open(), { source: SOURCE });
    const b = createSqliteOutbox(open(), { source: SOURCE });

    assert.equal(await held(a, 'relay-a', 150), true);
    assert.equal(await held(a, 'relay-a', 150), true, 'the holder renews');
    assert.equal(await held(b, 'relay-b', 150), false, 'refused while live');
    await b.releaseLease('relay-b'); // not the holder: no effect
    assert.equal(await held(b, 'relay-b', 150), false);

    await sleep(200);
    assert.equal(await held(b, 'relay-b', 150), true, 'takes over after expiry');
    assert.equal(await held(a, 'relay-a', 150), false, 'the old holder lost it');

    await b.releaseLease('relay-b');
    assert.equal(await held(a, 'relay-a', 10_000), true, 'immediately after release');
    assert.equal(await held(b, 'relay-b', 10_000), false);
  });

  it('stats() reports pending rows and the age of the oldest', async () => {
    const db = app();
    const outbox = createSqliteOutbox(db, { source: SOURCE });
    assert.deepEqual(await outbox.stats(), {
      pending: 0,
      oldestPendingAgeMs: null,
      partitions: [
        { partition: 0, owner: null, leaseExpiresInMs: null, pending: 0, oldestPendingAgeMs: null },
      ],
    });
    outbox.append(db, CourseCreated, { courseId: 'C-1', title: 't' });
    await sleep(60);
    outbox.append(db, CourseCreated, { courseId: 'C-2', title: 't' });
    const s = await outbox.stats();
    assert.equal(s.pending, 2);
    assert.ok(
      s.oldestPendingAgeMs !== null && s.oldestPendingAgeMs >= 55 && s.oldestPendingAgeMs < 5000,
      String(s.oldestPendingAgeMs),
    );
    await outbox.acknowledge((await outbox.readPending(undefined, 1)).rows);
    const after = await outbox.stats();
    assert.equal(after.pending, 1);
    assert.ok(
      after.oldestPendingAgeMs !== null && after.oldestPendingAgeMs < 55,
      String(after.oldestPendingAgeMs),
    );
  });
});

describe('SqliteOutbox: waitForAppend', () => {
  it('resolves promptly after an append in this process (the in-process signal, not polling)', async () => {
    const db = app();
    const outbox = createSqliteOutbox(db, { source: SOURCE });
    // A relay on its own connection that effectively never polls.
    const relay = createSqliteOutbox(open(), { source: SOURCE, pollIntervalMs: 60_000 });
    for (const waiter of [outbox, relay]) {
      const start = performance.now();
      const waited = waiter.waitForAppend(5000).then(() => performance.now());
      await sleep(20);
      const appended = performance.now();
      outbox.append(db, CourseCreated, { courseId: 'C-1', title: 't' });
      const woke = await waited;
      assert.ok(woke >= appended, 'woke before the append');
      assert.ok(woke - appended < 50, `woke ${(woke - appended).toFixed(1)} ms after the append`);
      assert.ok(woke - start < 1000);
    }
  });

  it('resolves promptly after a commit by another connection that sends no signal', async () => {
    const db = app();
    const relay = createSqliteOutbox(open(), { source: SOURCE });
    const waited = relay.waitForAppend(5000).then(() => performance.now());
    await sleep(30);
    const committed = performance.now();
    db.prepare(
      "INSERT INTO sluice_outbox (id, topic, key, type, value, created_at) VALUES ('x', 'courses', 'C-1', 'course.created', NULL, 0)",
    ).run();
    const woke = await waited;
    assert.ok(woke >= committed - 1, 'woke before the commit');
    assert.ok(woke - committed < 50, `woke ${(woke - committed).toFixed(1)} ms after the commit`);
  });

  it('resolves promptly after an append committed by another process', async () => {
    app();
    const relay = createSqliteOutbox(open(), { source: SOURCE });
    const child = spawn(
      process.execPath,
      [
        '--conditions=sluice-source',
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `
        import { defineEvent, defineKey, defineTopic } from '@sluice/core';
        import { z } from 'zod';
        import { openDatabase } from './src/open-database.ts';
        import { createSqliteOutbox } from './src/outbox/sqlite-outbox.ts';
        const key = defineKey('courseId', z.string(), { description: 'A course' });
        const topic = defineTopic({ name: 'courses', kind: 'event', partitions: 4 });
        const c = defineEvent({ type: 'course.created', version: 1, key, schema: z.object({ courseId: z.string() }), topic, description: 'x' });
        const db = openDatabase(process.argv[1]);
        const outbox = createSqliteOutbox(db, { source: 'urn:service:courses' });
        setTimeout(() => {
          outbox.append(db, c, { courseId: 'C-99' });
          process.stdout.write('committed\\n');
          db.close();
        }, 300);
        `,
        file,
      ],
      { cwd: PACKAGE_DIR, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const committed = new Promise<number>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('committed')) resolve(performance.now());
      });
    });
    const start = performance.now();
    await relay.waitForAppend(20_000);
    const woke = performance.now();
    const committedAt = await Promise.race([committed, exited.then(() => Number.NaN)]);
    assert.equal(await exited, 0);
    assert.ok(!Number.isNaN(committedAt), 'the child did not report its commit');
    // Polling every 2 ms, the relay may even wake before the child's stdout reaches us; never long after.
    assert.ok(
      woke - committedAt < 50,
      `woke ${(woke - committedAt).toFixed(1)} ms after the other process committed`,
    );
    assert.ok(woke - start < 15_000, 'waited for the timeout instead of the commit');
    assert.deepEqual(
      (await relay.readPending(undefined, 10)).rows.map((r) => r.key),
      ['C-99'],
    );
  });

  it('resolves after the timeout when nothing is appended, and at once on abort', async () => {
    app();
    const relay = createSqliteOutbox(open(), { source: SOURCE });
    let start = performance.now();
    await relay.waitForAppend(120);
    let elapsed = performance.now() - start;
    assert.ok(elapsed >= 110 && elapsed < 1000, `timeout after ${elapsed.toFixed(1)} ms`);

    const controller = new AbortController();
    start = performance.now();
    setTimeout(() => controller.abort(), 20);
    await relay.waitForAppend(10_000, controller.signal);
    elapsed = performance.now() - start;
    assert.ok(elapsed < 500, `abort took ${elapsed.toFixed(1)} ms`);

    start = performance.now();
    await relay.waitForAppend(10_000, AbortSignal.abort());
    assert.ok(performance.now() - start < 50);
  });
});
