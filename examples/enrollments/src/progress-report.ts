import type { Handlers } from '@sluice/core';
import type { SqliteDatabase } from '@sluice/sqlite';
import { EnrollmentCancelled, EnrollmentCreated, EnrollmentProgressed } from './contracts.js';

const REPORT_SCHEMA = `
CREATE TABLE IF NOT EXISTS course_report (
  course_id TEXT PRIMARY KEY,
  enrolled  INTEGER NOT NULL DEFAULT 0,
  cancelled INTEGER NOT NULL DEFAULT 0
);
-- A rowid table never deleted from: its rowid is the order the events were applied in (the fault tests check
-- per-key order with it).
CREATE TABLE IF NOT EXISTS report_events (
  event_id TEXT PRIMARY KEY,
  key      TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  type     TEXT NOT NULL
);`;

const ready = new WeakSet<SqliteDatabase>();

function tables(tx: SqliteDatabase): SqliteDatabase {
  if (!ready.has(tx)) {
    tx.exec(REPORT_SCHEMA);
    ready.add(tx);
  }
  return tx;
}

function record(tx: SqliteDatabase, event: { id: string; key: string; sequence: number; type: string }) {
  tables(tx)
    .prepare('INSERT INTO report_events (event_id, key, sequence, type) VALUES (?, ?, ?, ?)')
    .run(event.id, event.key, event.sequence, event.type);
}

/**
 * The enrollments-per-course report that `sluice.config.ts` runs as a consumer pipeline: each event counted once
 * (the inbox and these writes commit together), with a ledger of the events applied for checks.
 */
export const progressReport: Handlers<SqliteDatabase> = (on) => [
  on(EnrollmentCreated, (event, { tx }) => {
    record(tx, event);
    tx.prepare(
      `INSERT INTO course_report (course_id, enrolled) VALUES (?, 1)
       ON CONFLICT (course_id) DO UPDATE SET enrolled = enrolled + 1`,
    ).run(event.data.courseId);
  }),
  on(EnrollmentProgressed, (event, { tx }) => record(tx, event)),
  on(EnrollmentCancelled, (event, { tx }) => {
    record(tx, event);
  }),
];
