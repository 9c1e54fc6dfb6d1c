import { canonicalJson } from '../lock/canonical-json.js';
import type { DiffContext } from './diff-context.js';
import type { SchemaChangeType } from './schema-change-type.js';
import type { SchemaObject } from './schema-node.js';

type Bound = [
  added: SchemaChangeType,
  removed: SchemaChangeType,
  increased: SchemaChangeType,
  decreased: SchemaChangeType,
];

/** Compares a numeric keyword (maxLength, minimum, minItems, ...): added, removed, increased or decreased. */
export function compareBound(
  ctx: DiffContext,
  o: SchemaObject,
  u: SchemaObject,
  keyword: string,
  [added, removed, increased, decreased]: Bound,
): void {
  const a = o[keyword];
  const b = u[keyword];
  if (typeof a !== 'number' && typeof b !== 'number') return;
  if (typeof a !== 'number') ctx.add(added, keyword);
  else if (typeof b !== 'number') ctx.add(removed, keyword);
  else if (a < b) ctx.add(increased, keyword);
  else if (a > b) ctx.add(decreased, keyword);
}

export function compareStrings(ctx: DiffContext, o: SchemaObject, u: SchemaObject): void {
  compareBound(ctx, o, u, 'maxLength', [
    'MAX_LENGTH_ADDED',
    'MAX_LENGTH_REMOVED',
    'MAX_LENGTH_INCREASED',
    'MAX_LENGTH_DECREASED',
  ]);
  compareBound(ctx, o, u, 'minLength', [
    'MIN_LENGTH_ADDED',
    'MIN_LENGTH_REMOVED',
    'MIN_LENGTH_INCREASED',
    'MIN_LENGTH_DECREASED',
  ]);
  const a = o['pattern'];
  const b = u['pattern'];
  if (a === undefined && b !== undefined) ctx.add('PATTERN_ADDED', 'pattern');
  else if (a !== undefined && b === undefined) ctx.add('PATTERN_REMOVED', 'pattern');
  else if (a !== b) ctx.add('PATTERN_CHANGED', 'pattern');
}

export function compareNumbers(ctx: DiffContext, o: SchemaObject, u: SchemaObject): void {
  compareBound(ctx, o, u, 'maximum', [
    'MAXIMUM_ADDED',
    'MAXIMUM_REMOVED',
    'MAXIMUM_INCREASED',
    'MAXIMUM_DECREASED',
  ]);
  compareBound(ctx, o, u, 'minimum', [
    'MINIMUM_ADDED',
    'MINIMUM_REMOVED',
    'MINIMUM_INCREASED',
    'MINIMUM_DECREASED',
  ]);
  compareBound(ctx, o, u, 'exclusiveMaximum', [
    'EXCLUSIVE_MAXIMUM_ADDED',
    'EXCLUSIVE_MAXIMUM_REMOVED',
    'EXCLUSIVE_MAXIMUM_INCREASED',
    'EXCLUSIVE_MAXIMUM_DECREASED',
  ]);
  compareBound(ctx, o, u, 'exclusiveMinimum', [
    'EXCLUSIVE_MINIMUM_ADDED',
    'EXCLUSIVE_MINIMUM_REMOVED',
    'EXCLUSIVE_MINIMUM_INCREASED',
    'EXCLUSIVE_MINIMUM_DECREASED',
  ]);
  const a = o['multipleOf'];
  const b = u['multipleOf'];
  if (typeof a === 'number' || typeof b === 'number') {
    if (typeof a !== 'number') ctx.add('MULTIPLE_OF_ADDED', 'multipleOf');
    else if (typeof b !== 'number') ctx.add('MULTIPLE_OF_REMOVED', 'multipleOf');
    else if (a !== b) {
      if (a !== 0 && isMultiple(b, a)) ctx.add('MULTIPLE_OF_EXPANDED', 'multipleOf');
      else if (b !== 0 && isMultiple(a, b)) ctx.add('MULTIPLE_OF_REDUCED', 'multipleOf');
      else ctx.add('MULTIPLE_OF_CHANGED', 'multipleOf');
    }
  }
  const oInt = o['type'] === 'integer';
  const uInt = u['type'] === 'integer';
  if (oInt && !uInt) ctx.add('TYPE_EXTENDED');
  else if (!oInt && uInt) ctx.add('TYPE_NARROWED');
}

/** Whether `x` is an integer multiple of `y`, tolerant of binary fractions (0.3 is a multiple of 0.1). */
function isMultiple(x: number, y: number): boolean {
  const q = x / y;
  return Math.abs(q - Math.round(q)) < 1e-9;
}

export function compareEnums(ctx: DiffContext, o: SchemaObject, u: SchemaObject): void {
  const x = o['enum'] as unknown[];
  const y = u['enum'] as unknown[];
  if (x.length === y.length && x.every((v, i) => v === y[i])) return;
  const a = new Set((o['enum'] as unknown[]).map(canonicalJson));
  const b = new Set((u['enum'] as unknown[]).map(canonicalJson));
  const aInB = [...a].every((v) => b.has(v));
  const bInA = [...b].every((v) => a.has(v));
  if (aInB && bInA) return;
  if (aInB) ctx.add('ENUM_ARRAY_EXTENDED', 'enum');
  else if (bInA) ctx.add('ENUM_ARRAY_NARROWED', 'enum');
  else ctx.add('ENUM_ARRAY_CHANGED', 'enum');
}

export function compareConst(ctx: DiffContext, o: SchemaObject, u: SchemaObject): void {
  if (canonicalJson(o['const']) !== canonicalJson(u['const'])) ctx.add('ENUM_ARRAY_CHANGED', 'const');
}
