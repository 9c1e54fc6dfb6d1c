import type { CompatibilityMode } from '../compatibility-mode.js';
import { type DiffOptions, diffSchemas } from './diff-schemas.js';
import type { JsonSchema } from './schema-change.js';
import { describeChange, type SchemaChangeType } from './schema-change-type.js';

/** Who a BACKWARD violation breaks: the reader is the new schema, the writer an earlier one. */
export const BREAKS_BACKWARD = 'consumers of the new version reading old events';
/** Who a FORWARD violation breaks: the reader is an earlier schema, the writer the new one. */
export const BREAKS_FORWARD = 'old consumers reading new events';

/** One incompatibility of a new schema with an earlier one, under a compatibility mode. */
export interface CompatibilityIssue {
  /** BACKWARD: the new schema cannot read data written with the earlier one; FORWARD: the reverse. */
  readonly direction: 'BACKWARD' | 'FORWARD';
  /** Index in `earlier` (oldest first) of the schema this issue is against. */
  readonly against: number;
  /** JSON Pointer fragment into the schemas, e.g. `#/properties/address/properties/zip`. */
  readonly path: string;
  /** Confluent Schema Registry's name for the change. */
  readonly change: SchemaChangeType;
  /** What changed, with the schemas named "the old schema" and "the new schema". */
  readonly message: string;
  /** Who it breaks: {@link BREAKS_BACKWARD} or {@link BREAKS_FORWARD}. */
  readonly breaks: string;
}

/**
 * Checks `next` against `earlier` (oldest first) under `mode`, with Confluent Schema Registry's JSON Schema
 * rules: BACKWARD (the new schema reads data written with the previous one), FORWARD (the previous schema reads
 * data written with the new one), FULL (both), their `_TRANSITIVE` forms against every earlier schema instead
 * of only the latest, NONE (nothing). Returns the incompatible changes; empty when compatible.
 */
export function checkCompatibility(
  earlier: readonly JsonSchema[],
  next: JsonSchema,
  mode: CompatibilityMode,
  options: DiffOptions = {},
): CompatibilityIssue[] {
  if (mode === 'NONE' || earlier.length === 0) return [];
  const transitive = mode.endsWith('_TRANSITIVE');
  const backward = mode.startsWith('BACKWARD') || mode.startsWith('FULL');
  const forward = mode.startsWith('FORWARD') || mode.startsWith('FULL');
  const issues: CompatibilityIssue[] = [];
  const first = transitive ? 0 : earlier.length - 1;
  for (let i = earlier.length - 1; i >= first; i--) {
    const old = earlier[i] as JsonSchema;
    if (backward) issues.push(...incompatible(old, next, 'BACKWARD', i, options));
    if (forward) issues.push(...incompatible(next, old, 'FORWARD', i, options));
  }
  return issues;
}

function incompatible(
  writer: JsonSchema,
  reader: JsonSchema,
  direction: 'BACKWARD' | 'FORWARD',
  against: number,
  options: DiffOptions,
): CompatibilityIssue[] {
  const [w, r] =
    direction === 'BACKWARD' ? ['the old schema', 'the new schema'] : ['the new schema', 'the old schema'];
  return diffSchemas(writer, reader, options)
    .filter((c) => !c.compatible)
    .map((c) => ({
      direction,
      against,
      path: c.path,
      change: c.change,
      message: describeChange(c.change, w, r),
      breaks: direction === 'BACKWARD' ? BREAKS_BACKWARD : BREAKS_FORWARD,
    }));
}
