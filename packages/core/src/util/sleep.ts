import { waitForWake } from './wait-for-wake.js';

/** Resolves after `ms`, or at once when `signal` aborts. Never rejects. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return waitForWake(undefined, ms, signal);
}
