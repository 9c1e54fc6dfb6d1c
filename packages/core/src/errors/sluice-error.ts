import { type EitherRetryableCode, errorCatalogue, type SluiceErrorCode } from './error-catalogue.js';

/**
 * Options of a {@link SluiceError}. `retryable` may be passed only for the codes the catalogue marks as
 * genuinely both (`either`); every other code takes its answer from the catalogue.
 */
export type SluiceErrorOptions<C extends SluiceErrorCode> = [C] extends [EitherRetryableCode]
  ? { readonly cause?: unknown; readonly retryable?: boolean }
  : { readonly cause?: unknown; readonly retryable?: never };

/**
 * Every error Sluice throws is a {@link SluiceError}: a stable `code` from the {@link errorCatalogue} to branch
 * on, a message that says what happened and what to do, an optional `cause`, and `retryable` (the catalogue's
 * answer for the code), which the relay, consumers and change sources read through {@link isRetryable}.
 * Never parse messages; switch on `code`.
 */
export class SluiceError<C extends SluiceErrorCode = SluiceErrorCode> extends Error {
  readonly code: C;
  readonly retryable: boolean;

  constructor(code: C, message: string, options: SluiceErrorOptions<C> = {} as SluiceErrorOptions<C>) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    // A code unknown at run time (a JavaScript caller) is not retryable.
    this.retryable = options.retryable ?? errorCatalogue[code]?.retryable ?? false;
  }
}

/**
 * Whether trying again may help, the one answer every runtime uses (relay, consumer, change sources,
 * backfills, transports):
 * - a {@link SluiceError} answers with its `retryable` (the catalogue's answer for its code);
 * - any other error (a handler's own `TypeError`, a driver error an adapter did not classify) is retryable, as
 *   `SLUICE_HANDLER_ERROR` documents: it may well be transient (a network hiccup in a handler), so consumers
 *   retry it with backoff and dead-letter the event after the last attempt, and the relay and change sources
 *   retry it and log each failure with its code. A handler that knows retrying cannot help throws
 *   `SLUICE_HANDLER_REJECTED`.
 *
 * An error shaped like a SluiceError from another copy of `@sluice/core` (a `SLUICE_` code and a boolean
 * `retryable`) counts as one.
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof SluiceError) return error.retryable;
  const e = error as { code?: unknown; retryable?: unknown } | null;
  if (e !== null && typeof e === 'object' && typeof e.retryable === 'boolean') {
    if (typeof e.code === 'string' && e.code.startsWith('SLUICE_')) return e.retryable;
  }
  return errorCatalogue.SLUICE_HANDLER_ERROR.retryable;
}

/**
 * The code a store uses when its database cannot be reached (connection refused or lost, server restarting):
 * retryable, and never the fault of the event or the handler, so consumers wait for the database instead of
 * spending the event's attempts on it.
 */
export const DATABASE_UNAVAILABLE = 'SLUICE_DATABASE_UNAVAILABLE' satisfies SluiceErrorCode;

/** Whether `error` says a database was unreachable (see {@link DATABASE_UNAVAILABLE}). */
export function isDatabaseUnavailable(error: unknown): boolean {
  return error instanceof SluiceError && error.code === DATABASE_UNAVAILABLE;
}

/** The code of any thrown value, for dead letters and logs: a driver's own code, else `SLUICE_HANDLER_ERROR`. */
export function errorCode(error: unknown): string {
  if (error instanceof SluiceError) return error.code;
  if (error instanceof Error && typeof (error as { code?: unknown }).code === 'string') {
    return (error as unknown as { code: string }).code;
  }
  return 'SLUICE_HANDLER_ERROR' satisfies SluiceErrorCode;
}

/** A short, single-line description of any thrown value. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
