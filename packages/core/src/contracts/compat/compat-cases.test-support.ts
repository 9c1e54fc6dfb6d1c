import type { JsonSchema } from './schema-change.js';
import type { SchemaChangeType } from './schema-change-type.js';

/**
 * One rule of the table: `old` then `new` yields `rule` when the new schema reads the old one's data
 * (BACKWARD); `forward` lists the incompatible changes found the other way (FORWARD: old reads new's data).
 */
export interface RuleCase {
  readonly rule: SchemaChangeType;
  readonly old: JsonSchema;
  readonly new: JsonSchema;
  readonly forward: readonly SchemaChangeType[];
}

export const str = (extra: Record<string, unknown> = {}) => ({ type: 'string', ...extra });
export const num = (extra: Record<string, unknown> = {}) => ({ type: 'number', ...extra });
export const arr = (extra: Record<string, unknown> = {}) => ({
  type: 'array',
  items: { type: 'string' },
  ...extra,
});
/** An object; closed (`additionalProperties: false`, as zod's z.object) unless `extra` says otherwise. */
export const obj = (
  properties: Record<string, JsonSchema>,
  required: string[] = [],
  extra: Record<string, unknown> = {},
) => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
  ...extra,
});
export const open = { additionalProperties: true };
/** A tuple (`prefixItems`), with `items` after it: absent (open), `false` (closed) or a schema (partially open). */
export const tup = (items: JsonSchema[], rest?: JsonSchema) => ({
  type: 'array',
  prefixItems: items,
  ...(rest === undefined ? {} : { items: rest }),
});

/** The rules of scalars and objects; arrays and combined schemas: compat-array-cases.test-support.ts. */
export const SCALAR_AND_OBJECT_CASES: readonly RuleCase[] = [
  { rule: 'TYPE_CHANGED', old: str(), new: { type: 'boolean' }, forward: ['TYPE_CHANGED'] },
  { rule: 'TYPE_EXTENDED', old: { type: 'integer' }, new: num(), forward: ['TYPE_NARROWED'] },
  { rule: 'TYPE_NARROWED', old: num(), new: { type: 'integer' }, forward: [] },
  {
    rule: 'DESCRIPTION_CHANGED',
    old: str({ description: 'a' }),
    new: str({ description: 'b' }),
    forward: [],
  },
  { rule: 'TITLE_CHANGED', old: str({ title: 'a' }), new: str({ title: 'b' }), forward: [] },
  { rule: 'DEFAULT_CHANGED', old: str({ default: 'a' }), new: str({ default: 'b' }), forward: [] },
  { rule: 'SCHEMA_ADDED', old: { type: 'array' }, new: arr(), forward: [] },
  { rule: 'SCHEMA_REMOVED', old: arr(), new: { type: 'array' }, forward: ['SCHEMA_ADDED'] },
  { rule: 'MAX_LENGTH_ADDED', old: str(), new: str({ maxLength: 5 }), forward: [] },
  { rule: 'MAX_LENGTH_REMOVED', old: str({ maxLength: 5 }), new: str(), forward: ['MAX_LENGTH_ADDED'] },
  {
    rule: 'MAX_LENGTH_INCREASED',
    old: str({ maxLength: 5 }),
    new: str({ maxLength: 9 }),
    forward: ['MAX_LENGTH_DECREASED'],
  },
  { rule: 'MAX_LENGTH_DECREASED', old: str({ maxLength: 9 }), new: str({ maxLength: 5 }), forward: [] },
  { rule: 'MIN_LENGTH_ADDED', old: str(), new: str({ minLength: 2 }), forward: [] },
  { rule: 'MIN_LENGTH_REMOVED', old: str({ minLength: 2 }), new: str(), forward: ['MIN_LENGTH_ADDED'] },
  { rule: 'MIN_LENGTH_INCREASED', old: str({ minLength: 2 }), new: str({ minLength: 3 }), forward: [] },
  {
    rule: 'MIN_LENGTH_DECREASED',
    old: str({ minLength: 3 }),
    new: str({ minLength: 2 }),
    forward: ['MIN_LENGTH_INCREASED'],
  },
  { rule: 'PATTERN_ADDED', old: str(), new: str({ pattern: '^a' }), forward: [] },
  { rule: 'PATTERN_REMOVED', old: str({ pattern: '^a' }), new: str(), forward: ['PATTERN_ADDED'] },
  {
    rule: 'PATTERN_CHANGED',
    old: str({ pattern: '^a' }),
    new: str({ pattern: '^b' }),
    forward: ['PATTERN_CHANGED'],
  },
  { rule: 'MAXIMUM_ADDED', old: num(), new: num({ maximum: 10 }), forward: [] },
  { rule: 'MAXIMUM_REMOVED', old: num({ maximum: 10 }), new: num(), forward: ['MAXIMUM_ADDED'] },
  {
    rule: 'MAXIMUM_INCREASED',
    old: num({ maximum: 10 }),
    new: num({ maximum: 20 }),
    forward: ['MAXIMUM_DECREASED'],
  },
  { rule: 'MAXIMUM_DECREASED', old: num({ maximum: 20 }), new: num({ maximum: 10 }), forward: [] },
  { rule: 'MINIMUM_ADDED', old: num(), new: num({ minimum: 0 }), forward: [] },
  { rule: 'MINIMUM_REMOVED', old: num({ minimum: 0 }), new: num(), forward: ['MINIMUM_ADDED'] },
  { rule: 'MINIMUM_INCREASED', old: num({ minimum: 0 }), new: num({ minimum: 1 }), forward: [] },
  {
    rule: 'MINIMUM_DECREASED',
    old: num({ minimum: 1 }),
    new: num({ minimum: 0 }),
    forward: ['MINIMUM_INCREASED'],
  },
  { rule: 'EXCLUSIVE_MAXIMUM_ADDED', old: num(), new: num({ exclusiveMaximum: 10 }), forward: [] },
  {
    rule: 'EXCLUSIVE_MAXIMUM_REMOVED',
    old: num({ exclusiveMaximum: 10 }),
    new: num(),
    forward: ['EXCLUSIVE_MAXIMUM_ADDED'],
  },
  {
    rule: 'EXCLUSIVE_MAXIMUM_INCREASED',
    old: num({ exclusiveMaximum: 1 }),
    new: num({ exclusiveMaximum: 2 }),
    forward: ['EXCLUSIVE_MAXIMUM_DECREASED'],
  },
  {
    rule: 'EXCLUSIVE_MAXIMUM_DECREASED',
    old: num({ exclusiveMaximum: 2 }),
    new: num({ exclusiveMaximum: 1 }),
    forward: [],
  },
  { rule: 'EXCLUSIVE_MINIMUM_ADDED', old: num(), new: num({ exclusiveMinimum: 0 }), forward: [] },
  {
    rule: 'EXCLUSIVE_MINIMUM_REMOVED',
    old: num({ exclusiveMinimum: 0 }),
    new: num(),
    forward: ['EXCLUSIVE_MINIMUM_ADDED'],
  },
  {
    rule: 'EXCLUSIVE_MINIMUM_INCREASED',
    old: num({ exclusiveMinimum: 0 }),
    new: num({ exclusiveMinimum: 1 }),
    forward: [],
  },
  {
    rule: 'EXCLUSIVE_MINIMUM_DECREASED',
    old: num({ exclusiveMinimum: 1 }),
    new: num({ exclusiveMinimum: 0 }),
    forward: ['EXCLUSIVE_MINIMUM_INCREASED'],
  },
  { rule: 'MULTIPLE_OF_ADDED', old: num(), new: num({ multipleOf: 2 }), forward: [] },
  { rule: 'MULTIPLE_OF_REMOVED', old: num({ multipleOf: 2 }), new: num(), forward: ['MULTIPLE_OF_ADDED'] },
  { rule: 'MULTIPLE_OF_EXPANDED', old: num({ multipleOf: 2 }), new: num({ multipleOf: 4 }), forward: [] },
  {
    rule: 'MULTIPLE_OF_REDUCED',
    old: num({ multipleOf: 4 }),
    new: num({ multipleOf: 2 }),
    forward: ['MULTIPLE_OF_EXPANDED'],
  },
  {
    rule: 'MULTIPLE_OF_CHANGED',
    old: num({ multipleOf: 2 }),
    new: num({ multipleOf: 3 }),
    forward: ['MULTIPLE_OF_CHANGED'],
  },
  { rule: 'REQUIRED_ATTRIBUTE_ADDED', old: obj({ a: str() }), new: obj({ a: str() }, ['a']), forward: [] },
  {
    rule: 'REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED',
    old: obj({ a: str() }),
    new: obj({ a: str({ default: 'x' }) }, ['a']),
    forward: [],
  },
  {
    rule: 'REQUIRED_ATTRIBUTE_REMOVED',
    old: obj({ a: str() }, ['a']),
    new: obj({ a: str() }),
    forward: ['REQUIRED_ATTRIBUTE_ADDED'],
  },
  {
    rule: 'MAX_PROPERTIES_ADDED',
    old: obj({}, [], open),
    new: obj({}, [], { ...open, maxProperties: 3 }),
    forward: [],
  },
  {
    rule: 'MAX_PROPERTIES_INCREASED',
    old: obj({}, [], { maxProperties: 3 }),
    new: obj({}, [], { maxProperties: 4 }),
    forward: ['MAX_PROPERTIES_DECREASED'],
  },
  {
    rule: 'MIN_PROPERTIES_INCREASED',
    old: obj({}, [], { minProperties: 1 }),
    new: obj({}, [], { minProperties: 2 }),
    forward: [],
  },
  {
    rule: 'MIN_PROPERTIES_REMOVED',
    old: obj({}, [], { minProperties: 1 }),
    new: obj({}),
    forward: ['MIN_PROPERTIES_ADDED'],
  },
  {
    rule: 'ADDITIONAL_PROPERTIES_ADDED',
    old: obj({}),
    new: obj({}, [], open),
    forward: ['ADDITIONAL_PROPERTIES_REMOVED'],
  },
  { rule: 'ADDITIONAL_PROPERTIES_REMOVED', old: obj({}, [], open), new: obj({}), forward: [] },
  {
    rule: 'ADDITIONAL_PROPERTIES_EXTENDED',
    old: obj({}, [], { additionalProperties: str() }),
    new: obj({}, [], open),
    forward: ['ADDITIONAL_PROPERTIES_NARROWED'],
  },
  {
    rule: 'ADDITIONAL_PROPERTIES_NARROWED',
    old: obj({}, [], open),
    new: obj({}, [], { additionalProperties: str() }),
    forward: [],
  },
  {
    rule: 'REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL',
    old: obj({}, [], open),
    new: obj({ a: str() }, ['a'], open),
    forward: [],
  },
  {
    rule: 'REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL',
    old: obj({}, [], open),
    new: obj({ a: str({ default: 'x' }) }, ['a'], open),
    forward: [],
  },
  {
    rule: 'OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL',
    old: obj({}, [], open),
    new: obj({ a: str() }, [], open),
    forward: [],
  },
  {
    rule: 'PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL',
    old: obj({}, [], open),
    new: obj({ a: {} }, [], open),
    forward: [],
  },
  {
    rule: 'REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL',
    old: obj({}),
    new: obj({ a: str() }, ['a']),
    forward: ['PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL'],
  },
  {
    rule: 'REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL',
    old: obj({}),
    new: obj({ a: str({ default: 'x' }) }, ['a']),
    forward: ['PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL'],
  },
  {
    rule: 'OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL',
    old: obj({}),
    new: obj({ a: str() }),
    forward: ['PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL'],
  },
  {
    rule: 'PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL',
    old: obj({ a: str() }, [], open),
    new: obj({}, [], open),
    forward: ['OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL'],
  },
  {
    rule: 'PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL',
    old: obj({ a: false }),
    new: obj({}),
    forward: [],
  },
  { rule: 'PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL', old: obj({ a: str() }), new: obj({}), forward: [] },
  {
    rule: 'PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
    old: obj({ a: str() }, [], { additionalProperties: str() }),
    new: obj({}, [], { additionalProperties: str() }),
    forward: [],
  },
  {
    rule: 'PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
    old: obj({ a: num() }, [], { patternProperties: { '^x_': str() } }),
    new: obj({}, [], { additionalProperties: str() }),
    forward: [
      'PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
      'TYPE_CHANGED',
      'ADDITIONAL_PROPERTIES_REMOVED',
    ],
  },
  {
    rule: 'PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
    old: obj({}, [], { patternProperties: { '^x_': str({ maxLength: 10 }) } }),
    new: obj({ x_a: str() }, [], { patternProperties: { '^x_': str({ maxLength: 10 }) } }),
    forward: ['MAX_LENGTH_ADDED', 'PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL'],
  },
  {
    rule: 'PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
    old: obj({}, [], { patternProperties: { '^x_': str() } }),
    new: obj({ x_a: num() }, [], { patternProperties: { '^x_': str() } }),
    forward: ['PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL', 'TYPE_CHANGED'],
  },
  { rule: 'ID_CHANGED', old: str({ $id: 'urn:a' }), new: str({ $id: 'urn:b' }), forward: [] },
  {
    rule: 'MAX_PROPERTIES_REMOVED',
    old: obj({}, [], { maxProperties: 3 }),
    new: obj({}),
    forward: ['MAX_PROPERTIES_ADDED'],
  },
  {
    rule: 'MAX_PROPERTIES_DECREASED',
    old: obj({}, [], { maxProperties: 4 }),
    new: obj({}, [], { maxProperties: 3 }),
    forward: [],
  },
  { rule: 'MIN_PROPERTIES_ADDED', old: obj({}), new: obj({}, [], { minProperties: 1 }), forward: [] },
  {
    rule: 'MIN_PROPERTIES_DECREASED',
    old: obj({}, [], { minProperties: 2 }),
    new: obj({}, [], { minProperties: 1 }),
    forward: ['MIN_PROPERTIES_INCREASED'],
  },
];
