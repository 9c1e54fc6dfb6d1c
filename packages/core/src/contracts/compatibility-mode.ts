/**
 * How a contract's schema may change from one locked state to the next (the rules of Confluent Schema Registry
 * for JSON Schema; see docs/contracts.md):
 * - `BACKWARD` (default): consumers using the new schema can read data written with the previous one;
 * - `FORWARD`: consumers using the previous schema can read data written with the new one;
 * - `FULL`: both;
 * - `*_TRANSITIVE`: the same against every earlier locked schema, not just the previous one;
 * - `NONE`: no check (a locked version still may not change at all: versions are immutable).
 */
export type CompatibilityMode =
  | 'BACKWARD'
  | 'BACKWARD_TRANSITIVE'
  | 'FORWARD'
  | 'FORWARD_TRANSITIVE'
  | 'FULL'
  | 'FULL_TRANSITIVE'
  | 'NONE';

export const COMPATIBILITY_MODES: readonly CompatibilityMode[] = [
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
  'NONE',
];
