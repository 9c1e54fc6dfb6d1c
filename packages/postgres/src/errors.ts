import { type DatabaseErrorKind, databaseErrors } from '@sluice/core/adapter';

/**
 * The one classification of node-postgres errors in this package. SQLSTATE classes: connection exceptions
 * (08…), insufficient resources (53…, e.g. too many connections), operator intervention (57P01-03: admin or
 * crash shutdown, cannot connect now).
 */
const UNAVAILABLE_SQLSTATE = /^(08...|53...|57P0[1-3])$/;
/** serialization_failure, deadlock_detected, lock_not_available, query_canceled (a lock or statement timeout). */
const BUSY_SQLSTATE = new Set(['40001', '40P01', '55P03', '57014']);
/** invalid_authorization_specification, invalid_password. */
const AUTH_SQLSTATE = new Set(['28000', '28P01']);
/** Node socket errors of a lost or refused connection. */
const UNAVAILABLE_NODE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/** undefined_table, invalid_schema_name. */
const MISSING_RELATION = new Set(['42P01', '3F000']);

/** What a driver error means to Sluice. */
export type PgErrorKind = DatabaseErrorKind;

/** The SQLSTATE (or Node error code) of a driver error, if it has one. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Classifies a node-postgres error (an `AggregateError` of a refused connection by its first error). */
export function classifyPgError(error: unknown): PgErrorKind {
  const inner = (error as { errors?: unknown[] } | null)?.errors?.[0];
  const code = sqlState(error) ?? sqlState(inner);
  if (code === undefined) {
    const message = String((error as { message?: unknown } | null)?.message ?? '');
    return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(message)
      ? 'unavailable'
      : 'other';
  }
  if (MISSING_RELATION.has(code)) return 'missing-relation';
  if (AUTH_SQLSTATE.has(code)) return 'auth';
  if (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_NODE.has(code)) return 'unavailable';
  if (BUSY_SQLSTATE.has(code)) return 'busy';
  return 'other';
}

/** Whether a driver error says a Sluice table or schema does not exist. */
export function isMissingRelation(error: unknown): boolean {
  return classifyPgError(error) === 'missing-relation';
}

function describe(error: unknown): string {
  const code = sqlState(error);
  const detail = String((error as { message?: unknown } | null)?.message ?? error);
  return `${detail}${code ? ` (${code})` : ''}`;
}

const errors = databaseErrors({
  database: 'PostgreSQL',
  classify: classifyPgError,
  describe,
  busy: 'a deadlock, a serialization failure or a lock timeout',
  otherAdvice: "the database user's privileges on Sluice's schema and the server log",
});

/** See {@link DatabaseErrors.connectionError}; `where` is a URL masked with `maskUrl`, or "PostgreSQL". */
export const connectionError = errors.connectionError;

/** See {@link DatabaseErrors.toSluiceError}. */
export const toSluiceError = errors.toSluiceError;
