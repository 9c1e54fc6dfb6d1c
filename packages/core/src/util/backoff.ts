/** Exponential backoff settings shared by the relay and consumers. */
export interface BackoffOptions {
  /** Delay before the second attempt. */
  readonly initialMs: number;
  /** Upper bound of any delay. */
  readonly maxMs: number;
  /** Growth factor between attempts. */
  readonly multiplier: number;
}

/**
 * Delay before attempt `attempt + 1` after `attempt` failures (attempt >= 1): exponential with "equal jitter"
 * (half fixed, half random), so many failing keys don't retry in lockstep.
 */
export function backoffDelay(
  options: BackoffOptions,
  attempt: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(options.maxMs, options.initialMs * options.multiplier ** Math.max(0, attempt - 1));
  return Math.round(base / 2 + (random() * base) / 2);
}
