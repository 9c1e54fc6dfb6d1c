import type { DiffContext } from './diff-context.js';
import { compareSchemas } from './diff-schemas.js';
import { compareBound } from './scalar-diff.js';
import type { JsonSchema } from './schema-change.js';
import { isEmptySchema, normalize, type SchemaObject, subschema } from './schema-node.js';

/**
 * Arrays in draft 2020-12: `items` alone is the schema of every item; with `prefixItems` (a tuple) `items` is
 * the schema of the items after the tuple, and it sets the tuple's content model (absent or `true`: open,
 * `false`: closed, a schema: partially open), as `additionalItems` does in Confluent's rules.
 */
export function compareArrays(ctx: DiffContext, o: SchemaObject, u: SchemaObject): void {
  const oTuple = tuple(o);
  const uTuple = tuple(u);
  if (oTuple.length === 0 && uTuple.length === 0) {
    compareSchemas(ctx.at('items'), subschema(o['items']), subschema(u['items']));
  } else {
    compareTuples(ctx, o, u, oTuple, uTuple);
  }
  compareBound(ctx, o, u, 'maxItems', [
    'MAX_ITEMS_ADDED',
    'MAX_ITEMS_REMOVED',
    'MAX_ITEMS_INCREASED',
    'MAX_ITEMS_DECREASED',
  ]);
  compareBound(ctx, o, u, 'minItems', [
    'MIN_ITEMS_ADDED',
    'MIN_ITEMS_REMOVED',
    'MIN_ITEMS_INCREASED',
    'MIN_ITEMS_DECREASED',
  ]);
  const oUnique = o['uniqueItems'] === true;
  const uUnique = u['uniqueItems'] === true;
  if (oUnique && !uUnique) ctx.add('UNIQUE_ITEMS_REMOVED', 'uniqueItems');
  else if (!oUnique && uUnique) ctx.add('UNIQUE_ITEMS_ADDED', 'uniqueItems');
}

function tuple(s: SchemaObject): JsonSchema[] {
  return Array.isArray(s['prefixItems']) ? (s['prefixItems'] as JsonSchema[]) : [];
}

/** The schema of items after the tuple: undefined when open, false when closed. */
function rest(s: SchemaObject): JsonSchema | undefined {
  const items = subschema(s['items']);
  return items === undefined || isEmptySchema(items) ? undefined : items;
}

function compareTuples(
  ctx: DiffContext,
  o: SchemaObject,
  u: SchemaObject,
  oTuple: JsonSchema[],
  uTuple: JsonSchema[],
): void {
  const common = Math.min(oTuple.length, uTuple.length);
  for (let i = 0; i < common; i++) compareSchemas(ctx.at('prefixItems', i), oTuple[i], uTuple[i]);
  const uRest = rest(u);
  for (let i = common; i < oTuple.length; i++) {
    const at = ctx.at('prefixItems', i);
    const item = oTuple[i] as JsonSchema;
    if (uRest === undefined) at.add('ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL');
    else if (uRest === false)
      at.add(
        item === false
          ? 'ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL'
          : 'ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL',
      );
    else
      covered(
        at,
        item,
        uRest,
        'ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
        'ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
      );
  }
  const oRest = rest(o);
  for (let i = common; i < uTuple.length; i++) {
    const at = ctx.at('prefixItems', i);
    const item = uTuple[i] as JsonSchema;
    if (oRest === undefined)
      at.add(
        normalize(item).kind === 'empty'
          ? 'ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL'
          : 'ITEM_ADDED_TO_OPEN_CONTENT_MODEL',
      );
    else if (oRest === false) at.add('ITEM_ADDED_TO_CLOSED_CONTENT_MODEL');
    else
      covered(
        at,
        oRest,
        item,
        'ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
        'ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
      );
  }
  const at = ctx.at('items');
  const a = subschema(o['items']);
  const b = subschema(u['items']);
  const aPermits = a !== false;
  const bPermits = b !== false;
  if (aPermits !== bPermits) at.add(aPermits ? 'ADDITIONAL_ITEMS_REMOVED' : 'ADDITIONAL_ITEMS_ADDED');
  else if (aPermits && oRest === undefined && uRest !== undefined) at.add('ADDITIONAL_ITEMS_NARROWED');
  else if (aPermits && oRest !== undefined && uRest === undefined) at.add('ADDITIONAL_ITEMS_EXTENDED');
  else if (oRest !== undefined && uRest !== undefined && aPermits) compareSchemas(at, oRest, uRest);
}

function covered(
  ctx: DiffContext,
  writer: JsonSchema,
  reader: JsonSchema,
  yes:
    | 'ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL'
    | 'ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
  no:
    | 'ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL'
    | 'ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
): void {
  const trial = ctx.trial();
  compareSchemas(trial, writer, reader);
  ctx.addAll(trial.changes);
  ctx.add(trial.isCompatible() ? yes : no);
}
