import { type ConsumedEvent, type Handler, handle } from '@sluice/core';
import type { SqliteDatabase } from '@sluice/sqlite';
import { EnrollmentCancelled, EnrollmentCreated, EnrollmentProgressed } from './contracts.js';

/**
 * The consumer's local tables: a materialized view of enrollments, plus a ledger of every side effect the
 * handlers made (one row per event, counting applications) and of per-key order problems, so tests and the
 * demo can check "exactly once, in order" from the data itself.
 */
export const PROJECTION_SCHEMA = `
CREATE TABLE IF NOT EXISTS enrollment_view (
  enrollment_id TEXT PRIMARY KEY,
  course_id     TEXT,
  student_id    TEXT,
  progress      INTEGER NOT NULL DEFAULT 0,
  status        TEXT NOT NULL,
  last_sequence INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS side_effects (
  event_id   TEXT PRIMARY KEY,
  key        TEXT NOT NULL,
  sequence   INTEGER NOT NULL,
  applied    INTEGER NOT NULL,
  latency_ms REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS order_violations (
  event_id TEXT NOT NULL,
  key      TEXT NOT NULL,
  expected INTEGER NOT NULL,
  got      INTEGER NOT NULL
);`;

export interface ProjectionHooks {
  /** Throw from the handler on this attempt (failure injection for demos and tests). */
  readonly shouldFail?: (event: ConsumedEvent, attempt: number) => boolean;
}

/** Handlers that keep `enrollment_view` up to date inside the inbox transaction. */
export function enrollmentProjection(
  db: SqliteDatabase,
  hooks: ProjectionHooks = {},
): Handler<SqliteDatabase>[] {
  db.exec(PROJECTION_SCHEMA);
  const lastSequence = db
    .prepare('SELECT last_sequence FROM enrollment_view WHERE enrollment_id = ?')
    .pluck();
  const violation = db.prepare(
    'INSERT INTO order_violations (event_id, key, expected, got) VALUES (?, ?, ?, ?)',
  );
  const effect = db.prepare(
    `INSERT INTO side_effects (event_id, key, sequence, applied, latency_ms) VALUES (?, ?, ?, 1, ?)
     ON CONFLICT (event_id) DO UPDATE SET applied = applied + 1`,
  );
  const upsertCreated = db.prepare(
    `INSERT INTO enrollment_view (enrollment_id, course_id, student_id, status, last_sequence) VALUES (?, ?, ?, 'active', ?)
     ON CONFLICT (enrollment_id) DO UPDATE SET course_id = excluded.course_id, student_id = excluded.student_id,
       last_sequence = excluded.last_sequence`,
  );
  const setProgress = db.prepare(
    'UPDATE enrollment_view SET progress = ?, last_sequence = ? WHERE enrollment_id = ?',
  );
  const setCancelled = db.prepare(
    "UPDATE enrollment_view SET status = 'cancelled', last_sequence = ? WHERE enrollment_id = ?",
  );

  /** Common bookkeeping: failure injection, order check, side-effect ledger. */
  const track = (event: ConsumedEvent, attempt: number) => {
    if (hooks.shouldFail?.(event, attempt))
      throw new Error(`injected failure of ${event.type} ${event.id} (attempt ${attempt})`);
    const last = (lastSequence.get(event.key) as number | undefined) ?? 0;
    if (event.sequence !== last + 1) violation.run(event.id, event.key, last + 1, event.sequence);
    effect.run(event.id, event.key, event.sequence, Date.now() - Date.parse(event.time));
  };

  return [
    handle(EnrollmentCreated, (event, { attempt }) => {
      track(event, attempt);
      upsertCreated.run(event.key, event.data.courseId, event.data.studentId, event.sequence);
    }),
    handle(EnrollmentProgressed, (event, { attempt }) => {
      track(event, attempt);
      setProgress.run(event.data.progress, event.sequence, event.key);
    }),
    handle(EnrollmentCancelled, (event, { attempt }) => {
      track(event, attempt);
      setCancelled.run(event.sequence, event.key);
    }),
  ];
}
