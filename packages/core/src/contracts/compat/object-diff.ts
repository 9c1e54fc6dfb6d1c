import type { DiffContext } from './diff-context.js';
import { compareSchemas } from './diff-schemas.js';
import { compareBound } from './scalar-diff.js';
import type { JsonSchema } from './schema-change.js';
import { isEmptySchema, normalize, type SchemaObject, subschema } from './schema-node.js';

/**
 * The content model of an object schema, as Confluent defines it:
 * - open: `additionalProperties` `true` or `{}` (zod's `z.looseObject`), and no `patternProperties`: any other
 *   property, of any shape, may be present;
 * - closed: `additionalProperties: false` (`z.strictObject`) and no `patternProperties`;
 * - absent `additionalProperties` (`z.object`): closed by default, open with `defaultContentModel: 'open'`;
 * - partially open: `additionalProperties` is a schema, or `patternProperties` constrain some names.
 */
function additional(ctx: DiffContext, s: SchemaObject): { permits: boolean; schema: JsonSchema | undefined } {
  const ap = subschema(s['additionalProperties']);
  if (ap === undefined) return { permits: ctx.openByDefault, schema: undefined };
  if (ap === false) return { permits: false, schema: undefined };
  if (isEmptySchema(ap)) return { permits: true, schema: undefined };
  return { permits: true, schema: ap };
}

function patterns(s: SchemaObject): [RegExp, JsonSchema][] {
  const pp = s['patternProperties'];
  if (pp === null || typeof pp !== 'object') return [];
  return Object.entries(pp as Record<string, JsonSchema>).map(([p, schema]) => [safeRegExp(p), schema]);
}

function safeRegExp(pattern: string): RegExp {
  try {
    return new RegExp(pattern, 'u');
  } catch {
    return /(?!)/;
  }
}

function isOpen(ctx: DiffContext, s: SchemaObject): boolean {
  const a = additional(ctx, s);
  return a.permits && a.schema === undefined && patterns(s).length === 0;
}

/** The schema a partially open object gives a property it does not declare, if any. */
function partialSchemaFor(ctx: DiffContext, s: SchemaObject, name: string): JsonSchema | undefined {
  for (const [re, schema] of patterns(s)) if (re.test(name)) return schema;
  return additional(ctx, s).schema;
}

function props(s: SchemaObject): Record<string, JsonSchema> {
  const p = s['properties'];
  return p !== null && typeof p === 'object' ? (p as Record<string, JsonSchema>) : {};
}

function required(s: SchemaObject): Set<string> {
  const r = s['required'];
  return new Set(Array.isArray(r) ? (r as string[]) : []);
}

function hasDefault(s: JsonSchema | undefined): boolean {
  return typeof s === 'object' && 'default' in s;
}

export function compareObjects(ctx: DiffContext, o: SchemaObject, u: SchemaObject): void {
  const oProps = props(o);
  const uProps = props(u);
  const oReq = required(o);
  const uReq = required(u);
  for (const name of Object.keys(oProps)) {
    if (!(name in uProps)) continue;
    if (oReq.has(name) && !uReq.has(name)) ctx.add('REQUIRED_ATTRIBUTE_REMOVED', 'required', name);
    else if (!oReq.has(name) && uReq.has(name))
      ctx.add(
        hasDefault(uProps[name]) ? 'REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED' : 'REQUIRED_ATTRIBUTE_ADDED',
        'required',
        name,
      );
  }
  const names = new Set([...Object.keys(oProps), ...Object.keys(uProps)]);
  for (const name of names) {
    const at = ctx.at('properties', name);
    const os = oProps[name];
    const us = uProps[name];
    if (us === undefined) propertyRemoved(at, os as JsonSchema, u, name);
    else if (os === undefined) propertyAdded(at, us, o, name, uReq.has(name));
    else compareSchemas(at, os, us);
  }
  compareAdditional(ctx.at('additionalProperties'), o, u);
  compareBound(ctx, o, u, 'maxProperties', [
    'MAX_PROPERTIES_ADDED',
    'MAX_PROPERTIES_REMOVED',
    'MAX_PROPERTIES_INCREASED',
    'MAX_PROPERTIES_DECREASED',
  ]);
  compareBound(ctx, o, u, 'minProperties', [
    'MIN_PROPERTIES_ADDED',
    'MIN_PROPERTIES_REMOVED',
    'MIN_PROPERTIES_INCREASED',
    'MIN_PROPERTIES_DECREASED',
  ]);
}

/** The writer's schema has a property the reader's does not declare: only the reader's content model counts. */
function propertyRemoved(ctx: DiffContext, original: JsonSchema, update: SchemaObject, name: string): void {
  if (isOpen(ctx, update)) {
    ctx.add('PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL');
    return;
  }
  const partial = partialSchemaFor(ctx, update, name);
  if (partial !== undefined) {
    const trial = ctx.trial();
    compareSchemas(trial, original, partial);
    ctx.addAll(trial.changes);
    ctx.add(
      trial.isCompatible()
        ? 'PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL'
        : 'PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
    );
    return;
  }
  ctx.add(
    original === false
      ? 'PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL'
      : 'PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL',
  );
}

/** The reader's schema declares a property the writer's does not: only the writer's content model counts. */
function propertyAdded(
  ctx: DiffContext,
  update: JsonSchema,
  original: SchemaObject,
  name: string,
  isRequired: boolean,
): void {
  const withDefault = hasDefault(update);
  if (isOpen(ctx, original)) {
    if (normalize(update).kind === 'empty') {
      ctx.add('PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL');
      return;
    }
    if (!isRequired) {
      ctx.add('OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL');
      return;
    }
    ctx.add(
      withDefault
        ? 'REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL'
        : 'REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL',
    );
    return;
  }
  const partial = partialSchemaFor(ctx, original, name);
  if (partial !== undefined) {
    const trial = ctx.trial();
    compareSchemas(trial, partial, update);
    ctx.addAll(trial.changes);
    ctx.add(
      trial.isCompatible()
        ? 'PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL'
        : 'PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
    );
  }
  if (!isRequired) ctx.add('OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL');
  else
    ctx.add(
      withDefault
        ? 'REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL'
        : 'REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL',
    );
}

function compareAdditional(ctx: DiffContext, o: SchemaObject, u: SchemaObject): void {
  const a = additional(ctx, o);
  const b = additional(ctx, u);
  if (a.permits !== b.permits) {
    ctx.add(b.permits ? 'ADDITIONAL_PROPERTIES_ADDED' : 'ADDITIONAL_PROPERTIES_REMOVED');
    return;
  }
  if (!a.permits) return;
  if (a.schema === undefined && b.schema !== undefined) {
    ctx.add('ADDITIONAL_PROPERTIES_NARROWED');
    return;
  }
  if (a.schema !== undefined && b.schema === undefined) {
    ctx.add('ADDITIONAL_PROPERTIES_EXTENDED');
    return;
  }
  if (a.schema !== undefined && b.schema !== undefined) compareSchemas(ctx, a.schema, b.schema);
}
