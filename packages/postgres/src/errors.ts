import { DATABASE_UNAVAILABLE, MigrationRequiredError, SluiceError } from '@sluice/core';

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
export type PgErrorKind = 'missing-relation' | 'auth' | 'unavailable' | 'busy' | 'other';

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

/**
 * The error for a connection that could not be made or was lost, or `undefined` if `error` is not one:
 * refused credentials are `SLUICE_DATABASE_AUTH_FAILED`, an unreachable server `SLUICE_DATABASE_UNAVAILABLE`.
 * `where` names the database: a URL masked with `maskUrl` (never one with its password), or "PostgreSQL".
 */
export function connectionError(error: unknown, where: string): SluiceError | undefined {
  if (error instanceof SluiceError) {
    if (error.code !== 'SLUICE_DATABASE_AUTH_FAILED' && error.code !== DATABASE_UNAVAILABLE) return undefined;
    return connectionError(error.cause, where) ?? error;
  }
  const kind = classifyPgError(error);
  if (kind === 'auth') {
    return new SluiceError(
      'SLUICE_DATABASE_AUTH_FAILED',
      `cannot connect to ${where}: the server refused the credentials (${describe(error)}); fix the user or password in the URL`,
      { cause: error },
    );
  }
  if (kind === 'unavailable') {
    return new SluiceError(
      DATABASE_UNAVAILABLE,
      `cannot connect to ${where} (${describe(error)}); check that PostgreSQL runs and the URL is right`,
      { cause: error },
    );
  }
  return undefined;
}

/**
 * Turns a driver error from one of Sluice's own statements into a {@link SluiceError}: a missing table becomes
 * `MigrationRequiredError`; refused credentials `SLUICE_DATABASE_AUTH_FAILED`; a lost or refused connection
 * `SLUICE_DATABASE_UNAVAILABLE`; a conflict with another transaction (deadlock, serialization failure, lock
 * timeout) `SLUICE_BUSY`; anything else `SLUICE_DATABASE_ERROR`. The driver error is kept as `cause`.
 */
export function toSluiceError(error: unknown, doing: string, missing: string): SluiceError {
  if (error instanceof SluiceError) return error;
  const detail = describe(error);
  switch (classifyPgError(error)) {
    case 'missing-relation':
      return new MigrationRequiredError(missing, { cause: error });
    case 'auth':
      return new SluiceError(
        'SLUICE_DATABASE_AUTH_FAILED',
        `${doing} failed: PostgreSQL refused the credentials (${detail}); fix the user or password in the URL`,
        { cause: error },
      );
    case 'unavailable':
      return new SluiceError(
        DATABASE_UNAVAILABLE,
        `${doing} failed: ${detail}. PostgreSQL is unreachable or restarting; trying again may succeed`,
        { cause: error },
      );
    case 'busy':
      return new SluiceError(
        'SLUICE_BUSY',
        `${doing} failed: ${detail}. The statement conflicted with another transaction; trying again may succeed`,
        { cause: error },
      );
    default:
      return new SluiceError(
        'SLUICE_DATABASE_ERROR',
        `${doing} failed: ${detail}. Check the database user's privileges on Sluice's schema and the server log`,
        { cause: error },
      );
  }
}
