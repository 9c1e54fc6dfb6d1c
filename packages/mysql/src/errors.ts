import { type DatabaseErrorKind, databaseErrors } from '@sluice/core/adapter';

/**
 * The one classification of mysql2 errors in this package. Codes (mysql2's `code`) of a server that went away,
 * is shutting down or refuses more connections, and Node socket codes of a lost or refused connection.
 */
const UNAVAILABLE_CODE = new Set([
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
  'EAI_AGAIN',
]);
/** Client-side "server has gone away" / "lost connection" and server shutdown errnos. */
const UNAVAILABLE_ERRNO = new Set([1040, 1053, 1317, 1927, 2006, 2013]);
/** A deadlock or a lock wait timeout: the statement conflicted with another transaction. */
const BUSY_CODE = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);
const BUSY_ERRNO = new Set([1205, 1213]);
/** ER_ACCESS_DENIED_ERROR (wrong user or password), ER_DBACCESS_DENIED_ERROR, ER_ACCESS_DENIED_NO_PASSWORD_ERROR. */
const AUTH_CODE = new Set([
  'ER_ACCESS_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_ACCESS_DENIED_NO_PASSWORD_ERROR',
]);
/** ER_NO_SUCH_TABLE, ER_BAD_DB_ERROR. */
const MISSING_RELATION = new Set(['ER_NO_SUCH_TABLE', 'ER_BAD_DB_ERROR']);

/** What a driver error means to Sluice. */
export type MysqlErrorKind = DatabaseErrorKind;

/** The driver's error code (`ER_…` or a Node socket code), if it has one. */
export function errorCodeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Classifies a mysql2 error. */
export function classifyMysqlError(error: unknown): MysqlErrorKind {
  const code = errorCodeOf(error);
  const errno = (error as { errno?: unknown } | null)?.errno;
  if (code !== undefined && MISSING_RELATION.has(code)) return 'missing-relation';
  if (code !== undefined && AUTH_CODE.has(code)) return 'auth';
  if ((code !== undefined && BUSY_CODE.has(code)) || (typeof errno === 'number' && BUSY_ERRNO.has(errno))) {
    return 'busy';
  }
  if (code !== undefined && UNAVAILABLE_CODE.has(code)) return 'unavailable';
  if (typeof errno === 'number' && UNAVAILABLE_ERRNO.has(errno)) return 'unavailable';
  if ((error as { fatal?: unknown } | null)?.fatal === true) return 'unavailable';
  return /connection is in closed state|Pool is closed|Connection lost/i.test(
    String((error as { message?: unknown } | null)?.message ?? ''),
  )
    ? 'unavailable'
    : 'other';
}

/** Whether a driver error says a Sluice table or database does not exist. */
export function isMissingRelation(error: unknown): boolean {
  return classifyMysqlError(error) === 'missing-relation';
}

/** Whether a driver error means the connection is gone (not a deadlock or a lock wait timeout). */
export function isConnectionLost(error: unknown): boolean {
  return classifyMysqlError(error) === 'unavailable';
}

function describe(error: unknown): string {
  const code = errorCodeOf(error);
  const detail = String((error as { message?: unknown } | null)?.message ?? error);
  return `${detail}${code ? ` (${code})` : ''}`;
}

const errors = databaseErrors({
  database: 'MySQL',
  classify: classifyMysqlError,
  describe,
  busy: 'a deadlock or a lock wait timeout',
  otherAdvice: "the database user's privileges on Sluice's tables and the server log",
});

/** See {@link DatabaseErrors.connectionError}; `where` is a URL masked with `maskUrl`, or "MySQL". */
export const connectionError = errors.connectionError;

/** See {@link DatabaseErrors.toSluiceError}. */
export const toSluiceError = errors.toSluiceError;
