import { randomUUID } from 'node:crypto';
import {
  type AppendResult,
  fromPg,
  type PgPool,
  type PgPoolClient,
  type PostgresOutbox,
} from '@sluice/postgres';
import { EnrollmentCancelled, EnrollmentCreated, EnrollmentProgressed } from './contracts.js';
import { CourseFull, RolledBack } from './service.js';

/** Options of {@link createPostgresEnrollmentsService}. */
export interface PostgresEnrollmentsServiceOptions {
  /** The schema holding the service's own tables (created if missing). Default `public`. */
  readonly schema?: string;
}

/** `"name"`, quoted for SQL. */
function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

/**
 * The service's own tables in PostgreSQL, one statement per entry, in `schema`: the same internal model as
 * {@link SERVICE_SCHEMA} (never published as is).
 */
export function postgresServiceSchema(schema = 'public'): readonly string[] {
  const s = quote(schema);
  return [
    `CREATE SCHEMA IF NOT EXISTS ${s}`,
    `CREATE TABLE IF NOT EXISTS ${s}.courses (
  id          text PRIMARY KEY,
  capacity    integer NOT NULL,
  seats_taken integer NOT NULL DEFAULT 0
)`,
    `CREATE TABLE IF NOT EXISTS ${s}.enrollments (
  id          uuid PRIMARY KEY,
  course_id   text NOT NULL REFERENCES ${s}.courses (id),
  student_id  text NOT NULL,
  progress    integer NOT NULL DEFAULT 0,
  status      text NOT NULL,
  updated_at  timestamptz NOT NULL
)`,
    `CREATE INDEX IF NOT EXISTS enrollments_by_course ON ${s}.enrollments (course_id)`,
    `CREATE INDEX IF NOT EXISTS enrollments_by_student ON ${s}.enrollments (student_id)`,
  ];
}

/**
 * The example "enrollments" service on PostgreSQL: the same operations as {@link EnrollmentsService}, each in a
 * `BEGIN ... COMMIT` on a connection of the pool, appending its event with `outbox.append(fromPg(client), ...)`
 * in that transaction. `failAfterAppend` rolls the transaction back after the append (and throws
 * {@link RolledBack}): the event is gone with the business rows. Create it with
 * {@link createPostgresEnrollmentsService}, which creates the tables.
 */
export class PostgresEnrollmentsService {
  readonly #pool: PgPool;
  readonly #outbox: PostgresOutbox;
  readonly #sql: {
    readonly openCourse: string;
    readonly takeSeat: string;
    readonly freeSeat: string;
    readonly insertEnrollment: string;
    readonly setProgress: string;
    readonly cancel: string;
  };

  /** Use {@link createPostgresEnrollmentsService}: it creates the tables first. */
  constructor(pool: PgPool, outbox: PostgresOutbox, options: PostgresEnrollmentsServiceOptions = {}) {
    this.#pool = pool;
    this.#outbox = outbox;
    const s = quote(options.schema ?? 'public');
    this.#sql = {
      openCourse: `INSERT INTO ${s}.courses (id, capacity) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`,
      takeSeat: `UPDATE ${s}.courses SET seats_taken = seats_taken + 1 WHERE id = $1 AND seats_taken < capacity`,
      freeSeat: `UPDATE ${s}.courses SET seats_taken = seats_taken - 1 WHERE id = $1`,
      insertEnrollment: `INSERT INTO ${s}.enrollments (id, course_id, student_id, status, updated_at)
VALUES ($1, $2, $3, 'active', $4)`,
      setProgress: `UPDATE ${s}.enrollments SET progress = $1, updated_at = $2 WHERE id = $3 AND status = 'active'`,
      cancel: `UPDATE ${s}.enrollments SET status = 'cancelled', updated_at = $1 WHERE id = $2 AND status = 'active'
RETURNING course_id`,
    };
  }

  /** Adds a course to the catalogue (no event: the catalogue is another service's). */
  async openCourse(courseId: string, capacity: number): Promise<void> {
    await this.#pool.query(this.#sql.openCourse, [courseId, capacity]);
  }

  enroll(
    courseId: string,
    studentId: string,
    options: { failAfterAppend?: boolean } = {},
  ): Promise<AppendResult> {
    const id = randomUUID();
    const now = new Date().toISOString();
    return this.#transaction(async (client) => {
      if ((await client.query(this.#sql.takeSeat, [courseId])).rowCount === 0) throw new CourseFull(courseId);
      await client.query(this.#sql.insertEnrollment, [id, courseId, studentId, now]);
      const appended = await this.#outbox.append(fromPg(client), EnrollmentCreated, {
        enrollmentId: id,
        courseId,
        studentId,
        enrolledAt: now,
      });
      if (options.failAfterAppend) throw new RolledBack(appended.id);
      return appended;
    });
  }

  recordProgress(
    enrollmentId: string,
    progress: number,
    options: { failAfterAppend?: boolean } = {},
  ): Promise<AppendResult> {
    return this.#transaction(async (client) => {
      await client.query(this.#sql.setProgress, [progress, new Date().toISOString(), enrollmentId]);
      const appended = await this.#outbox.append(fromPg(client), EnrollmentProgressed, {
        enrollmentId,
        progress,
      });
      if (options.failAfterAppend) throw new RolledBack(appended.id);
      return appended;
    });
  }

  cancel(
    enrollmentId: string,
    reason: 'student-request' | 'course-closed' | 'payment-failed',
    options: { failAfterAppend?: boolean } = {},
  ): Promise<AppendResult> {
    return this.#transaction(async (client) => {
      const { rows } = await client.query<{ course_id: string }>(this.#sql.cancel, [
        new Date().toISOString(),
        enrollmentId,
      ]);
      if (rows[0]) await client.query(this.#sql.freeSeat, [rows[0].course_id]);
      const appended = await this.#outbox.append(fromPg(client), EnrollmentCancelled, {
        enrollmentId,
        reason,
      });
      if (options.failAfterAppend) throw new RolledBack(appended.id);
      return appended;
    });
  }

  /**
   * Runs `work` between `BEGIN` and `COMMIT` on one connection of the pool; rolls back and rethrows if it throws.
   * A connection that cannot even roll back is destroyed instead of returned to the pool.
   */
  async #transaction<T>(work: (client: PgPoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      }
      throw error;
    } finally {
      client.release(broken ?? false);
    }
  }
}

/**
 * Creates the service's tables in `options.schema` (if missing) and returns the service. `pool` is a `pg.Pool`;
 * `outbox` an outbox on the same database (`createPostgresOutbox(pool, { source, schema, migrate: true })`).
 */
export async function createPostgresEnrollmentsService(
  pool: PgPool,
  outbox: PostgresOutbox,
  options: PostgresEnrollmentsServiceOptions = {},
): Promise<PostgresEnrollmentsService> {
  for (const statement of postgresServiceSchema(options.schema)) await pool.query(statement);
  return new PostgresEnrollmentsService(pool, outbox, options);
}
