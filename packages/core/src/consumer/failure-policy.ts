import { isDatabaseUnavailable, SluiceError } from '../errors.js';
import { type BackoffOptions, backoffDelay } from '../util/backoff.js';
import { isPermanent } from '../util/retrying.js';

/** Longest wait between tries while the consumer's database is unreachable. */
export const UNAVAILABLE_MAX_WAIT_MS = 2000;

/** What to do after a handler (or the inbox) failed on an event. */
export type FailureAction =
  /** The consumer's own database is away: not the event's fault; wait for it without spending an attempt. */
  | { readonly kind: 'wait-for-database'; readonly delayMs: number }
  /** Try the event again after `delayMs`; its key's later events wait. */
  | { readonly kind: 'retry'; readonly delayMs: number }
  /** A permanent error, or the last attempt failed: publish the event to the dead-letter topic. */
  | { readonly kind: 'dead-letter' };

/** How long to wait for the consumer's database after `unavailable` consecutive calls found it away. */
export function unavailableDelay(backoff: BackoffOptions, unavailable: number): number {
  return Math.min(UNAVAILABLE_MAX_WAIT_MS, backoffDelay(backoff, unavailable));
}

/**
 * The failure policy: an unreachable or busy database is waited for however long it takes (`unavailable` counts the
 * consecutive such failures, this one included); a permanent `SluiceError` (not `retryable`) or the
 * `maxAttempts`th failure dead-letters; anything else retries with backoff after `attempts` failures.
 */
export function failureAction(
  error: unknown,
  attempts: number,
  maxAttempts: number,
  backoff: BackoffOptions,
  unavailable: number,
): FailureAction {
  // The consumer's own database is down or restarting, or Sluice's own statements met a deadlock or lock timeout
  // (a handler's own errors are never SLUICE_BUSY: stores rethrow them unchanged): not the event's fault.
  if (isDatabaseUnavailable(error) || (error instanceof SluiceError && error.code === 'SLUICE_BUSY')) {
    return { kind: 'wait-for-database', delayMs: unavailableDelay(backoff, unavailable) };
  }
  const permanent = isPermanent(error);
  if (permanent || attempts >= maxAttempts) return { kind: 'dead-letter' };
  return { kind: 'retry', delayMs: backoffDelay(backoff, attempts) };
}
