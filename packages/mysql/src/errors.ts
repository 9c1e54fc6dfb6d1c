import { DATABASE_UNAVAILABLE, MigrationRequiredError, SluiceError } from '@sluice/core';

/**
 * MySQL/MariaDB error codes (mysql2's `code`) after which trying again may succeed: the server went away or
 * is shutting down, too many connections, a deadlock or lock wait timeout.
 */
const RETRYABLE_CODE = new Set([
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_SERVER_SHUTDOWN',
  'ER_CON_COUNT_ERROR',
  'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_QUERY_INTERRUPTED',
  'ER_CONNECTION_KILLED',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);
/** Client-side "server has gone away" / "lost connection" errnos (CR_SERVER_GONE_ERROR, CR_SERVER_LOST). */
const RETRYABLE_ERRNO = new Set([1040, 1053, 1205, 1213, 1317, 1927, 2006, 2013]);
/** ER_NO_SUCH_TABLE, ER_BAD_DB_ERROR. */
const MISSING_RELATION = new Set(['ER_NO_SUCH_TABLE', 'ER_BAD_DB_ERROR']);

/** The driver's error code (`ER_…` or a Node socket code), if it has one. */
export function errorCodeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Whether a driver error says a Sluice table or database does not exist. */
export function isMissingRelation(error: unknown): boolean {
  const code = errorCodeOf(error);
  return code !== undefined && MISSING_RELATION.has(code);
}

/** Whether a driver error is worth retrying (connection lost or refused, server shutting down, deadlock). */
export function isRetryable(error: unknown): boolean {
  const code = errorCodeOf(error);
  const errno = (error as { errno?: unknown } | null)?.errno;
  if (code !== undefined && RETRYABLE_CODE.has(code)) return true;
  if (typeof errno === 'number' && RETRYABLE_ERRNO.has(errno)) return true;
  if ((error as { fatal?: unknown } | null)?.fatal === true) return true;
  return /connection is in closed state|Pool is closed|Connection lost/i.test(
    String((error as { message?: unknown } | null)?.message ?? ''),
  );
}

/**
 * Turns a driver error from one of Sluice's own statements into a {@link SluiceError}: a missing table becomes
 * `MigrationRequiredError`; a lost connection or a conflict becomes `SLUICE_DATABASE_UNAVAILABLE` with
 * `retryable: true`; anything else `SLUICE_DATABASE_ERROR`. The driver error is kept as `cause`.
 */
export function toSluiceError(error: unknown, doing: string, missing: string): SluiceError {
  if (error instanceof SluiceError) return error;
  const detail = String((error as { message?: unknown } | null)?.message ?? error);
  const code = errorCodeOf(error);
  if (isMissingRelation(error)) return new MigrationRequiredError(missing, { cause: error });
  if (isRetryable(error)) {
    return new SluiceError(
      DATABASE_UNAVAILABLE,
      `${doing} failed${code ? ` (${code})` : ''}: ${detail}. MySQL is unreachable or the statement conflicted with another; trying again may succeed`,
      { cause: error },
    );
  }
  return new SluiceError(
    'SLUICE_DATABASE_ERROR',
    `${doing} failed${code ? ` (${code})` : ''}: ${detail}. Check the database user's privileges on Sluice's tables and the server log`,
    { cause: error },
  );
}
