import { InvalidOptionError } from '../errors.js';

/**
 * An optional integer option of `component`: `fallback` when absent, else a safe integer from `min` to `max`, or
 * an {@link InvalidOptionError} naming the field and the range.
 */
export function integerOption(
  component: string,
  field: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(
      component,
      field,
      `must be an integer from ${min} to ${max}, got ${String(value)}`,
    );
  }
  return value;
}
