import { randomUUID } from 'node:crypto';
import type { AppendResult, SqliteDatabase, SqliteOutbox } from '@sluice/sqlite';
import { EnrollmentCancelled, EnrollmentCreated, EnrollmentProgressed } from './contracts.js';

/** The service's own table: its internal model, which is never published as is. */
export const SERVICE_SCHEMA = `CREATE TABLE IF NOT EXISTS enrollments (
  id          TEXT PRIMARY KEY,
  course_id   TEXT NOT NULL,
  student_id  TEXT NOT NULL,
  progress    INTEGER NOT NULL DEFAULT 0,
  status      TEXT NOT NULL,
  updated_at  TEXT NOT NULL
)`;

/**
 * The example "enrollments" service: each operation changes its own table and appends the matching event to
 * the outbox in the same transaction. `failAfterAppend` simulates a failure late in the transaction (a
 * constraint, a crash of the request): the transaction rolls back, and the event with it.
 */
export class EnrollmentsService {
  readonly #db: SqliteDatabase;
  readonly #outbox: SqliteOutbox;

  constructor(db: SqliteDatabase, outbox: SqliteOutbox) {
    this.#db = db;
    this.#outbox = outbox;
    db.exec(SERVICE_SCHEMA);
  }

  enroll(courseId: string, studentId: string, options: { failAfterAppend?: boolean } = {}): AppendResult {
    const id = randomUUID();
    const now = new Date().toISOString();
    return this.#db.transaction(() => {
      this.#db
        .prepare(
          "INSERT INTO enrollments (id, course_id, student_id, status, updated_at) VALUES (?, ?, ?, 'active', ?)",
        )
        .run(id, courseId, studentId, now);
      const appended = this.#outbox.append(this.#db, EnrollmentCreated, {
        enrollmentId: id,
        courseId,
        studentId,
        enrolledAt: now,
      });
      if (options.failAfterAppend) throw new RolledBack(appended.id);
      return appended;
    })();
  }

  recordProgress(
    enrollmentId: string,
    progress: number,
    options: { failAfterAppend?: boolean } = {},
  ): AppendResult {
    return this.#db.transaction(() => {
      this.#db
        .prepare("UPDATE enrollments SET progress = ?, updated_at = ? WHERE id = ? AND status = 'active'")
        .run(progress, new Date().toISOString(), enrollmentId);
      const appended = this.#outbox.append(this.#db, EnrollmentProgressed, { enrollmentId, progress });
      if (options.failAfterAppend) throw new RolledBack(appended.id);
      return appended;
    })();
  }

  cancel(
    enrollmentId: string,
    reason: 'student-request' | 'course-closed' | 'payment-failed',
    options: { failAfterAppend?: boolean } = {},
  ): AppendResult {
    return this.#db.transaction(() => {
      this.#db
        .prepare("UPDATE enrollments SET status = 'cancelled', updated_at = ? WHERE id = ?")
        .run(new Date().toISOString(), enrollmentId);
      const appended = this.#outbox.append(this.#db, EnrollmentCancelled, { enrollmentId, reason });
      if (options.failAfterAppend) throw new RolledBack(appended.id);
      return appended;
    })();
  }
}

/** Thrown to roll a transaction back on purpose; carries the id of the event that must never be delivered. */
export class RolledBack extends Error {
  readonly eventId: string;
  constructor(eventId: string) {
    super(`transaction rolled back on purpose (event ${eventId} must never be delivered)`);
    this.eventId = eventId;
  }
}
