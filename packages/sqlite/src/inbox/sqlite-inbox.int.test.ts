import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { MigrationRequiredError, SluiceError } from '@sluice/core';
import { migrate } from '../migrations/migrate.js';
import { openDatabase, type SqliteDatabase } from '../open-database.js';
import { createSqliteInbox } from './sqlite-inbox.js';

const EVENT = '0190a3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d';
const OTHER_EVENT = '0190a3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6e';

let dir: string;
let file: string;
let opened: SqliteDatabase[];

function open(): SqliteDatabase {
  const db = openDatabase(file);
  opened.push(db);
  return db;
}

/** A migrated consumer connection with a projection table. */
function consumerDb(): SqliteDatabase {
  const db = open();
  migrate(db);
  db.exec('CREATE TABLE IF NOT EXISTS seats (course TEXT PRIMARY KEY, taken INTEGER NOT NULL)');
  return db;
}

const takeSeat = (tx: SqliteDatabase, course: string) =>
  tx
    .prepare(
      'INSERT INTO seats (course, taken) VALUES (?, 1) ON CONFLICT (course) DO UPDATE SET taken = taken + 1',
    )
    .run(course);

const taken = (db: SqliteDatabase, course: string) =>
  (db.prepare('SELECT taken FROM seats WHERE course = ?').pluck().get(course) as number | undefined) ?? 0;

const recorded = (db: SqliteDatabase) =>
  db.prepare('SELECT consumer_group AS g, event_id AS id FROM sluice_inbox ORDER BY g, id').all() as Array<{
    g: string;
    id: string;
  }>;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-inbox-'));
  file = join(dir, 'consumer.db');
  opened = [];
});

afterEach(() => {
  for (const db of opened) if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SqliteInbox', () => {
  it('refuses an unmigrated database unless asked to migrate', () => {
    assert.throws(
      () => createSqliteInbox(open()),
      (e: unknown) =>
        e instanceof MigrationRequiredError &&
        /sluice_inbox/.test(e.message) &&
        /run `sluice migrate`/.test(e.message),
    );
    assert.doesNotThrow(() => createSqliteInbox(open(), { migrate: true }));
  });

  it('passes its own connection to apply, inside the transaction', async () => {
    const db = consumerDb();
    const inbox = createSqliteInbox(db);
    let seen: SqliteDatabase | undefined;
    let inTransaction = false;
    await inbox.runOnce('projection', EVENT, (tx) => {
      seen = tx;
      inTransaction = tx.inTransaction;
    });
    assert.equal(seen, db);
    assert.equal(inTransaction, true);
  });

  it('throws SLUICE_CONNECTION_IN_TRANSACTION when its connection is already inside a transaction, and leaves it alone', async () => {
    const db = consumerDb();
    const inbox = createSqliteInbox(db);
    db.exec('BEGIN');
    takeSeat(db, 'C-9');
    let called = false;
    await assert.rejects(
      inbox.runOnce('projection', EVENT, () => {
        called = true;
      }),
      (e: unknown) => {
        assert.ok(e instanceof SluiceError, String(e));
        assert.equal(e.code, 'SLUICE_CONNECTION_IN_TRANSACTION');
        assert.match(e.message, /already inside a transaction; give the consumer a connection of its own/);
        return true;
      },
    );
    assert.equal(called, false);
    // The caller's transaction is untouched: still open, with its write.
    assert.equal(db.inTransaction, true);
    assert.equal(taken(db, 'C-9'), 1);
    db.exec('COMMIT');
    assert.deepEqual(recorded(db), []);

    // While an async apply is awaiting, the connection is busy too.
    let release!: () => void;
    const first = inbox.runOnce(
      'projection',
      EVENT,
      () =>
        new Promise<void>((resolve) => {
          release = resolve;
        }),
    );
    await assert.rejects(
      inbox.runOnce('projection', OTHER_EVENT, () => {}),
      (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_CONNECTION_IN_TRANSACTION',
    );
    release();
    assert.equal(await first, 'applied');
    assert.equal(await inbox.runOnce('projection', OTHER_EVENT, () => {}), 'applied');
  });
});
