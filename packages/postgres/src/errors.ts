import { DATABASE_UNAVAILABLE, MigrationRequiredError, SluiceError } from '@sluice/core';

/** SQLSTATEs after which trying again may succeed: connection lost, server restarting, conflicts. */
const RETRYABLE_SQLSTATE = /^(08...|40001|40P01|53...|55P03|57P0[1-3]|57014)$/;
/** Node socket errors of a lost or refused connection. */
const RETRYABLE_NODE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);
/** undefined_table, invalid_schema_name. */
const MISSING_RELATION = new Set(['42P01', '3F000']);

/** The SQLSTATE (or Node error code) of a driver error, if it has one. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Whether a driver error says a Sluice table or schema does not exist. */
export function isMissingRelation(error: unknown): boolean {
  const code = sqlState(error);
  return code !== undefined && MISSING_RELATION.has(code);
}

/** Whether a driver error is worth retrying (connection lost, server shutting down, serialization conflict). */
export function isRetryable(error: unknown): boolean {
  const code = sqlState(error);
  if (code === undefined) {
    return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(
      String((error as { message?: unknown } | null)?.message ?? ''),
    );
  }
  return RETRYABLE_SQLSTATE.test(code) || RETRYABLE_NODE.has(code);
}

/**
 * Turns a driver error from one of Sluice's own statements into a {@link SluiceError}: a missing table becomes
 * `MigrationRequiredError`; a lost connection or a conflict becomes `SLUICE_DATABASE_UNAVAILABLE` with
 * `retryable: true`; anything else `SLUICE_DATABASE_ERROR`. The driver error is kept as `cause`.
 */
export function toSluiceError(error: unknown, doing: string, missing: string): SluiceError {
  if (error instanceof SluiceError) return error;
  const detail = String((error as { message?: unknown } | null)?.message ?? error);
  const code = sqlState(error);
  if (isMissingRelation(error)) return new MigrationRequiredError(missing, { cause: error });
  if (isRetryable(error)) {
    return new SluiceError(
      DATABASE_UNAVAILABLE,
      `${doing} failed${code ? ` (${code})` : ''}: ${detail}. PostgreSQL is unreachable or the statement conflicted with another; trying again may succeed`,
      { cause: error },
    );
  }
  return new SluiceError(
    'SLUICE_DATABASE_ERROR',
    `${doing} failed${code ? ` (${code})` : ''}: ${detail}. Check the database user's privileges on Sluice's schema and the server log`,
    { cause: error },
  );
}
