import { isRetryable } from '../errors.js';
import { type BackoffOptions, backoffDelay } from './backoff.js';
import { sleep } from './sleep.js';

/** Whether an error says that trying again cannot help: the negation of the one `isRetryable` of core. */
export function isPermanent(error: unknown): boolean {
  return !isRetryable(error);
}

/**
 * Runs `fn` until it succeeds, waiting a backoff between attempts, for calls to a broker or database that may be
 * briefly away (a restart, a leader election, a server still loading its data). Rethrows a permanent error
 * (see {@link isPermanent}) at once, and the last error when `signal` aborts. `onRetry` sees each failure.
 */
export async function retrying<T>(
  fn: () => Promise<T>,
  backoff: BackoffOptions,
  signal: AbortSignal,
  onRetry: (error: unknown, attempt: number, delayMs: number) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (isPermanent(error) || signal.aborted) throw error;
      const delayMs = backoffDelay(backoff, attempt);
      onRetry(error, attempt, delayMs);
      await sleep(delayMs, signal);
      if (signal.aborted) throw error;
    }
  }
}
