import { canonicalJson } from '../lock/canonical-json.js';
import { compareArrays } from './array-diff.js';
import { compareCombined } from './combined-diff.js';
import { DiffContext, resolveRef } from './diff-context.js';
import { compareObjects } from './object-diff.js';
import { compareConst, compareEnums, compareNumbers, compareStrings } from './scalar-diff.js';
import type { JsonSchema, SchemaChange } from './schema-change.js';
import { criterionOf, normalize, type SchemaObject } from './schema-node.js';

/** Recursion bound: schemas nested deeper than this are compared no further. */
const MAX_DEPTH = 200;

/** Options of a schema comparison. */
export interface DiffOptions {
  /**
   * The content model of an object schema without `additionalProperties`. Default `closed`: a contract's data
   * is produced through its schema, and zod's `z.object` strips undeclared keys (so its input JSON Schema
   * omits `additionalProperties`), so events never carry a property their version does not declare.
   * `open` is JSON Schema's own meaning (and Confluent's). Explicit `additionalProperties: true` or `{}`
   * (`z.looseObject`) is open and `false` (`z.strictObject`) closed either way.
   */
  readonly defaultContentModel?: 'closed' | 'open';
}

/**
 * Every difference between a writer's schema (`original`) and a reader's (`update`), with Confluent Schema
 * Registry's JSON Schema rules: a change is compatible when the reader can still read all data the writer's
 * schema allows. `$ref`s are resolved within each document.
 */
export function diffSchemas(
  original: JsonSchema,
  update: JsonSchema,
  options: DiffOptions = {},
): SchemaChange[] {
  const ctx = DiffContext.root(original, update, options.defaultContentModel === 'open');
  compareSchemas(ctx, original, update);
  return ctx.changes;
}

/** Compares two sub-schemas at `ctx`'s path; `undefined` is an absent schema (SCHEMA_ADDED / SCHEMA_REMOVED). */
export function compareSchemas(
  ctx: DiffContext,
  original: JsonSchema | undefined,
  update: JsonSchema | undefined,
): void {
  if (original === undefined && update === undefined) return;
  if (original === undefined) {
    ctx.add('SCHEMA_ADDED');
    return;
  }
  if (update === undefined) {
    ctx.add('SCHEMA_REMOVED');
    return;
  }
  if (ctx.depth > MAX_DEPTH) return;
  const o = resolveRef(original, ctx.originalRoot);
  const u = resolveRef(update, ctx.updateRoot);
  // Only a $ref can lead back to a pair being compared further up.
  if (o === original && u === update) compareTypes(ctx, o, u);
  else ctx.guard(o, u, () => compareTypes(ctx, o, u));
}

function compareTypes(ctx: DiffContext, original: JsonSchema, update: JsonSchema): void {
  const o = normalize(original);
  const u = normalize(update);
  if (o.kind !== 'combined' && u.kind === 'combined') {
    if (tryAgainstCombined(ctx, original, u.schema, 'update')) return;
  } else if (o.kind === 'combined' && u.kind !== 'combined') {
    if (tryAgainstCombined(ctx, update, o.schema, 'original')) return;
  }
  if (o.kind !== u.kind) {
    if (o.kind === 'false' || u.kind === 'empty') return;
    ctx.add('TYPE_CHANGED');
    return;
  }
  compareAnnotations(ctx, o.schema, u.schema);
  switch (o.kind) {
    case 'string': {
      compareStrings(ctx, o.schema, u.schema);
      return;
    }
    case 'number': {
      compareNumbers(ctx, o.schema, u.schema);
      return;
    }
    case 'const': {
      compareConst(ctx, o.schema, u.schema);
      return;
    }
    case 'enum': {
      compareEnums(ctx, o.schema, u.schema);
      return;
    }
    case 'combined': {
      compareCombined(ctx, o.schema, u.schema);
      return;
    }
    case 'object': {
      compareObjects(ctx, o.schema, u.schema);
      return;
    }
    case 'array': {
      compareArrays(ctx, o.schema, u.schema);
      return;
    }
  }
}

/**
 * A plain schema against a combined one (Confluent's special cases): a singleton combination is its one
 * sub-schema; a plain writer's schema is read by an anyOf/oneOf reader with a compatible alternative
 * (SUM_TYPE_EXTENDED); an allOf writer's schema is read by a plain reader compatible with one of its parts
 * (PRODUCT_TYPE_NARROWED). Returns whether it settled the comparison.
 */
function tryAgainstCombined(
  ctx: DiffContext,
  plain: JsonSchema,
  combined: SchemaObject,
  combinedSide: 'original' | 'update',
): boolean {
  const criterion = criterionOf(combined);
  const subs = (criterion === undefined ? [] : combined[criterion]) as JsonSchema[];
  const compare = (sub: JsonSchema): DiffContext => {
    const trial = ctx.trial();
    if (combinedSide === 'update') compareSchemas(trial, plain, sub);
    else compareSchemas(trial, sub, plain);
    return trial;
  };
  if (subs.length === 1) {
    const trial = compare(subs[0] as JsonSchema);
    if (trial.isCompatible()) {
      ctx.addAll(trial.changes);
      return true;
    }
    return false;
  }
  const wanted = combinedSide === 'update' ? criterion !== 'allOf' : criterion === 'allOf';
  if (!wanted) return false;
  for (const sub of subs) {
    const trial = compare(sub);
    if (trial.isCompatible()) {
      ctx.addAll(trial.changes);
      ctx.add(combinedSide === 'update' ? 'SUM_TYPE_EXTENDED' : 'PRODUCT_TYPE_NARROWED');
      return true;
    }
  }
  return false;
}

function compareAnnotations(ctx: DiffContext, o: SchemaObject, u: SchemaObject): void {
  if (o['$id'] !== u['$id']) ctx.add('ID_CHANGED');
  if (o['title'] !== u['title']) ctx.add('TITLE_CHANGED');
  if (o['description'] !== u['description']) ctx.add('DESCRIPTION_CHANGED');
  const a = o['default'];
  const b = u['default'];
  if (a !== b && (typeof a !== 'object' || typeof b !== 'object' || canonicalJson(a) !== canonicalJson(b)))
    ctx.add('DEFAULT_CHANGED');
}
