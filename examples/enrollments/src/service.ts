import { randomUUID } from 'node:crypto';
import type { AppendResult, SqliteDatabase, SqliteOutbox, SqliteStatement } from '@sluice/sqlite';
import { EnrollmentCancelled, EnrollmentCreated, EnrollmentProgressed } from './contracts.js';

/** The service's own tables: its internal model, which is never published as is. */
export const SERVICE_SCHEMA = `
CREATE TABLE IF NOT EXISTS courses (
  id          TEXT PRIMARY KEY,
  capacity    INTEGER NOT NULL,
  seats_taken INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS enrollments (
  id          TEXT PRIMARY KEY,
  course_id   TEXT NOT NULL REFERENCES courses (id),
  student_id  TEXT NOT NULL,
  progress    INTEGER NOT NULL DEFAULT 0,
  status      TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS enrollments_by_course ON enrollments (course_id);
CREATE INDEX IF NOT EXISTS enrollments_by_student ON enrollments (student_id);`;

/** The service's statements, prepared once per connection. */
export interface ServiceStatements {
  readonly openCourse: SqliteStatement;
  readonly takeSeat: SqliteStatement;
  readonly freeSeat: SqliteStatement;
  readonly insertEnrollment: SqliteStatement;
  readonly setProgress: SqliteStatement;
  readonly cancel: SqliteStatement;
}

export function serviceStatements(db: SqliteDatabase): ServiceStatements {
  db.exec(SERVICE_SCHEMA);
  return {
    openCourse: db.prepare('INSERT INTO courses (id, capacity) VALUES (?, ?) ON CONFLICT (id) DO NOTHING'),
    takeSeat: db.prepare(
      'UPDATE courses SET seats_taken = seats_taken + 1 WHERE id = ? AND seats_taken < capacity',
    ),
    freeSeat: db.prepare('UPDATE courses SET seats_taken = seats_taken - 1 WHERE id = ?'),
    insertEnrollment: db.prepare(
      "INSERT INTO enrollments (id, course_id, student_id, status, updated_at) VALUES (?, ?, ?, 'active', ?)",
    ),
    setProgress: db.prepare(
      "UPDATE enrollments SET progress = ?, updated_at = ? WHERE id = ? AND status = 'active'",
    ),
    cancel: db.prepare(
      "UPDATE enrollments SET status = 'cancelled', updated_at = ? WHERE id = ? RETURNING course_id",
    ),
  };
}

/**
 * The example "enrollments" service: each operation changes its own tables (taking or freeing a seat in the
 * course, recording the enrollment) and appends the matching event to the outbox in the same transaction.
 * `failAfterAppend` simulates a failure late in the transaction (a constraint, a crashed request): the
 * transaction rolls back, and the event with it.
 */
export class EnrollmentsService {
  readonly #db: SqliteDatabase;
  readonly #outbox: SqliteOutbox;
  readonly #sql: ServiceStatements;

  constructor(db: SqliteDatabase, outbox: SqliteOutbox) {
    this.#db = db;
    this.#outbox = outbox;
    this.#sql = serviceStatements(db);
  }

  /** Adds a course to the catalogue (no event: the catalogue is another service's). */
  openCourse(courseId: string, capacity: number): void {
    this.#sql.openCourse.run(courseId, capacity);
  }

  enroll(courseId: string, studentId: string, options: { failAfterAppend?: boolean } = {}): AppendResult {
    const id = randomUUID();
    const now = new Date().toISOString();
    return this.#db.transaction(() => {
      if (this.#sql.takeSeat.run(courseId).changes === 0) throw new CourseFull(courseId);
      this.#sql.insertEnrollment.run(id, courseId, studentId, now);
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
      this.#sql.setProgress.run(progress, new Date().toISOString(), enrollmentId);
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
      const row = this.#sql.cancel.get(new Date().toISOString(), enrollmentId) as
        | { course_id: string }
        | undefined;
      if (row) this.#sql.freeSeat.run(row.course_id);
      const appended = this.#outbox.append(this.#db, EnrollmentCancelled, { enrollmentId, reason });
      if (options.failAfterAppend) throw new RolledBack(appended.id);
      return appended;
    })();
  }
}

/** The course has no free seat; the enrollment is refused and nothing is written. */
export class CourseFull extends Error {
  constructor(courseId: string) {
    super(`course ${courseId} is full`);
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
