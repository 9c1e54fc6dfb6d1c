import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  defineEvent,
  defineKey,
  defineTopic,
  InvalidOptionError,
  MigrationRequiredError,
} from '@sluice/core';
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
});

describe('SqliteOutbox: relay side', () => {
  it('listRows lists the newest row, kept after delivery so positions are never reused, as delivered', async () => {
    // The rest of listRows and listChains: runOutboxStoreConformance (sqlite-outbox-conformance.int.test.ts).
    const db = app();
    const outbox = createSqliteOutbox(db, { source: SOURCE });
    outbox.append(db, CourseCreated, { courseId: 'C-1', title: 't' });
    outbox.append(db, CourseAudited, { courseId: 'C-1' });
    const pending = (await outbox.readPending(undefined, 10)).rows;
    await outbox.acknowledge(pending); // the first is deleted; the last, the newest row, is kept
    assert.deepEqual((await outbox.listRows('courses', undefined, 10)).rows, []);
    assert.deepEqual(
      (await outbox.listRows('course-audit', undefined, 10)).rows.map((r) => [
        r.key,
        r.sequence,
        r.delivered,
      ]),
      [['C-1', 1, true]],
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
});
