/**
 * How a field's value must be treated outside the producing service: `personal` (about an identifiable person:
 * masked by `sluice tail`, the logs and the console unless asked to show), `secret` (never shown).
 */
export type FieldClassification = 'personal' | 'secret';

/** A contract version marked for retirement: still valid, but producers should move on. */
export interface Deprecation {
  /** ISO date (YYYY-MM-DD) from which the version is deprecated. */
  readonly since: string;
  /** Why, and what to use instead, in words a producer's author understands. */
  readonly reason?: string;
  /** The version that replaces it, if any. */
  readonly replacedBy?: number;
}
