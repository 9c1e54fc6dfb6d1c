import { type ConsumedEvent, type Handler, type HandlerFactory, handle } from '@sluice/core';
import { fromPg, type PgQueryable, type SqlExecutor } from '@sluice/postgres';
import { EnrollmentCancelled, EnrollmentCreated, EnrollmentProgressed } from './contracts.js';
import type { ProjectionHooks } from './projection.js';

/** Options of {@link postgresEnrollmentProjection}. */
export interface PostgresProjectionOptions extends ProjectionHooks {
  /** The schema holding the consumer's tables (created if missing). Default `public`. */
  readonly schema?: string;
}

/** `"name"`, quoted for SQL. */
function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

/**
 * The consumer's local tables in PostgreSQL, one statement per entry, in `schema`: the same as
 * {@link PROJECTION_SCHEMA} (the materialized view, the side-effect ledger, per-key order problems).
 */
export function postgresProjectionSchema(schema = 'public'): readonly string[] {
  const s = quote(schema);
  return [
    `CREATE SCHEMA IF NOT EXISTS ${s}`,
    `CREATE TABLE IF NOT EXISTS ${s}.enrollment_view (
  enrollment_id text PRIMARY KEY,
  course_id     text,
  student_id    text,
  progress      integer NOT NULL DEFAULT 0,
  status        text NOT NULL,
  last_sequence bigint NOT NULL
)`,
    `CREATE TABLE IF NOT EXISTS ${s}.side_effects (
  event_id   text PRIMARY KEY,
  key        text NOT NULL,
  sequence   bigint NOT NULL,
  applied    integer NOT NULL,
  latency_ms double precision NOT NULL
)`,
    `CREATE TABLE IF NOT EXISTS ${s}.order_violations (
  event_id text NOT NULL,
  key      text NOT NULL,
  expected bigint NOT NULL,
  got      bigint NOT NULL
)`,
  ];
}

/**
 * Creates the consumer's tables on `db` (a `pg.Pool`, if missing) and returns the handlers that keep
 * `enrollment_view` up to date, as {@link enrollmentProjection} does on SQLite. Each handler writes through
 * `context.tx`, the PostgreSQL inbox's transaction (`createPostgresInbox(pool)`), so its writes commit with the
 * inbox record, exactly once.
 */
export async function postgresEnrollmentProjection(
  db: PgQueryable,
  options: PostgresProjectionOptions = {},
): Promise<Handler<SqlExecutor>[]> {
  const executor = fromPg(db);
  for (const statement of postgresProjectionSchema(options.schema)) await executor.execute(statement);
  const s = quote(options.schema ?? 'public');
  const lastSequenceSql = `SELECT last_sequence::text AS last_sequence FROM ${s}.enrollment_view WHERE enrollment_id = $1`;
  const violationSql = `INSERT INTO ${s}.order_violations (event_id, key, expected, got) VALUES ($1, $2, $3, $4)`;
  const effectSql = `INSERT INTO ${s}.side_effects AS e (event_id, key, sequence, applied, latency_ms)
VALUES ($1, $2, $3, 1, $4)
ON CONFLICT (event_id) DO UPDATE SET applied = e.applied + 1`;
  const upsertCreatedSql = `INSERT INTO ${s}.enrollment_view (enrollment_id, course_id, student_id, status, last_sequence)
VALUES ($1, $2, $3, 'active', $4)
ON CONFLICT (enrollment_id) DO UPDATE SET course_id = excluded.course_id, student_id = excluded.student_id,
  last_sequence = excluded.last_sequence`;
  const setProgressSql = `UPDATE ${s}.enrollment_view SET progress = $1, last_sequence = $2 WHERE enrollment_id = $3`;
  const setCancelledSql = `UPDATE ${s}.enrollment_view SET status = 'cancelled', last_sequence = $1 WHERE enrollment_id = $2`;

  /** Common bookkeeping: failure injection, order check, side-effect ledger. */
  const track = async (tx: SqlExecutor, event: ConsumedEvent, attempt: number) => {
    if (options.shouldFail?.(event, attempt))
      throw new Error(`injected failure of ${event.type} ${event.id} (attempt ${attempt})`);
    const [row] = await tx.execute<{ last_sequence: string }>(lastSequenceSql, [event.key]);
    const last = row ? Number(row.last_sequence) : 0;
    if (event.sequence !== last + 1)
      await tx.execute(violationSql, [event.id, event.key, last + 1, event.sequence]);
    await tx.execute(effectSql, [event.id, event.key, event.sequence, Date.now() - Date.parse(event.time)]);
  };

  const on: HandlerFactory<SqlExecutor> = (contract, fn) => handle(contract, fn);
  return [
    on(EnrollmentCreated, async (event, { tx, attempt }) => {
      await track(tx, event, attempt);
      await tx.execute(upsertCreatedSql, [
        event.key,
        event.data.courseId,
        event.data.studentId,
        event.sequence,
      ]);
    }),
    on(EnrollmentProgressed, async (event, { tx, attempt }) => {
      await track(tx, event, attempt);
      await tx.execute(setProgressSql, [event.data.progress, event.sequence, event.key]);
    }),
    on(EnrollmentCancelled, async (event, { tx, attempt }) => {
      await track(tx, event, attempt);
      await tx.execute(setCancelledSql, [event.sequence, event.key]);
    }),
  ];
}
