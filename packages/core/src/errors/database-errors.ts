import { MigrationRequiredError } from './error-classes.js';
import { DATABASE_UNAVAILABLE, SluiceError } from './sluice-error.js';

/** What a database driver's error means to Sluice: each adapter's `errors.ts` classifies its driver's errors. */
export type DatabaseErrorKind = 'missing-relation' | 'auth' | 'unavailable' | 'busy' | 'other';

/** One database's words for {@link databaseErrors}: its name in messages, its classifier, and its error text. */
export interface DatabaseErrorWords {
  /** The database in messages: `PostgreSQL`, `MySQL`. */
  readonly database: string;
  readonly classify: (error: unknown) => DatabaseErrorKind;
  /** The driver error's message with its code, for messages. */
  readonly describe: (error: unknown) => string;
  /** What a conflict with another transaction is called on this database (after "the statement conflicted"). */
  readonly busy: string;
  /** What to check when a statement failed for another reason (after "Check"). */
  readonly otherAdvice: string;
}

/** The conversions every SQL adapter makes of its driver's errors, built once from its {@link DatabaseErrorWords}. */
export interface DatabaseErrors {
  /**
   * The error for a connection that could not be made or was lost, or `undefined` if `error` is not one: refused
   * credentials are `SLUICE_DATABASE_AUTH_FAILED`, an unreachable server `SLUICE_DATABASE_UNAVAILABLE`. `where`
   * names the database: a URL masked with `maskUrl` (never one with its password), or the database's name.
   */
  connectionError(error: unknown, where: string): SluiceError | undefined;
  /**
   * Turns a driver error from one of Sluice's own statements into a {@link SluiceError}: a missing table becomes
   * `MigrationRequiredError`; refused credentials `SLUICE_DATABASE_AUTH_FAILED`; a lost or refused connection
   * `SLUICE_DATABASE_UNAVAILABLE`; a conflict with another transaction `SLUICE_BUSY`; anything else
   * `SLUICE_DATABASE_ERROR`. The driver error is kept as `cause`; a `SluiceError` passes through.
   */
  toSluiceError(error: unknown, doing: string, missing: string): SluiceError;
}

/** The {@link DatabaseErrors} of one database. */
export function databaseErrors(words: DatabaseErrorWords): DatabaseErrors {
  const { database, classify, describe } = words;
  const connectionError = (error: unknown, where: string): SluiceError | undefined => {
    if (error instanceof SluiceError) {
      if (error.code !== 'SLUICE_DATABASE_AUTH_FAILED' && error.code !== DATABASE_UNAVAILABLE)
        return undefined;
      return connectionError(error.cause, where) ?? error;
    }
    const kind = classify(error);
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
        `cannot connect to ${where} (${describe(error)}); check that ${database} runs and the URL is right`,
        { cause: error },
      );
    }
    return undefined;
  };
  const toSluiceError = (error: unknown, doing: string, missing: string): SluiceError => {
    if (error instanceof SluiceError) return error;
    const detail = describe(error);
    switch (classify(error)) {
      case 'missing-relation':
        return new MigrationRequiredError(missing, { cause: error });
      case 'auth':
        return new SluiceError(
          'SLUICE_DATABASE_AUTH_FAILED',
          `${doing} failed: ${database} refused the credentials (${detail}); fix the user or password in the URL`,
          { cause: error },
        );
      case 'unavailable':
        return new SluiceError(
          DATABASE_UNAVAILABLE,
          `${doing} failed: ${detail}. ${database} is unreachable or restarting; trying again may succeed`,
          { cause: error },
        );
      case 'busy':
        return new SluiceError(
          'SLUICE_BUSY',
          `${doing} failed: ${detail}. The statement conflicted with another transaction (${words.busy}); trying again may succeed`,
          { cause: error },
        );
      default:
        return new SluiceError(
          'SLUICE_DATABASE_ERROR',
          `${doing} failed: ${detail}. Check ${words.otherAdvice}`,
          { cause: error },
        );
    }
  };
  return { connectionError, toSluiceError };
}
