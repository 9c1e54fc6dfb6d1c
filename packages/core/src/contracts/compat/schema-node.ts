import type { JsonSchema } from './schema-change.js';

/**
 * The kind of a (sub-)schema, as Confluent's everit-based provider classifies it: one class per kind, and two
 * schemas of different kinds are a `TYPE_CHANGED` (except `number`/`integer`, both `number`).
 */
export type SchemaKind =
  | 'false'
  | 'empty'
  | 'combined'
  | 'enum'
  | 'const'
  | 'string'
  | 'number'
  | 'boolean'
  | 'null'
  | 'object'
  | 'array';

export type SchemaObject = Readonly<Record<string, unknown>>;

const OBJECT_WORDS = [
  'properties',
  'required',
  'additionalProperties',
  'patternProperties',
  'minProperties',
  'maxProperties',
];
const ARRAY_WORDS = ['items', 'prefixItems', 'minItems', 'maxItems', 'uniqueItems'];
const STRING_WORDS = ['minLength', 'maxLength', 'pattern'];
const NUMBER_WORDS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'];

/** The combinator of a combined schema (`anyOf`, `oneOf` or `allOf`), if any. */
export function criterionOf(s: SchemaObject): 'anyOf' | 'oneOf' | 'allOf' | undefined {
  if (Array.isArray(s['anyOf'])) return 'anyOf';
  if (Array.isArray(s['oneOf'])) return 'oneOf';
  if (Array.isArray(s['allOf'])) return 'allOf';
  return undefined;
}

/**
 * A schema as the diff sees it: `true` and `{}` are "empty" (anything), `type: [a, b]` is an `anyOf` of one
 * schema per type (as everit loads it), `enum`/`const` take precedence over `type` (zod writes
 * `{ type: 'string', enum: [...] }`), and a schema without `type` is classified by its keywords.
 */
export function normalize(s: JsonSchema): { kind: SchemaKind; schema: SchemaObject } {
  if (s === false) return { kind: 'false', schema: {} };
  if (s === true) return { kind: 'empty', schema: {} };
  if (criterionOf(s) !== undefined) return { kind: 'combined', schema: s };
  if (Array.isArray(s['enum'])) return { kind: 'enum', schema: s };
  if ('const' in s) return { kind: 'const', schema: s };
  const type = s['type'];
  if (Array.isArray(type)) {
    if (type.length === 1) return normalize({ ...s, type: type[0] });
    return { kind: 'combined', schema: { anyOf: type.map((t) => ({ ...s, type: t })) } };
  }
  switch (type) {
    case 'string':
    case 'boolean':
    case 'null':
    case 'object':
    case 'array':
      return { kind: type, schema: s };
    case 'number':
    case 'integer':
      return { kind: 'number', schema: s };
  }
  const has = (words: string[]) => words.some((w) => w in s);
  if (has(OBJECT_WORDS)) return { kind: 'object', schema: s };
  if (has(ARRAY_WORDS)) return { kind: 'array', schema: s };
  if (has(STRING_WORDS)) return { kind: 'string', schema: s };
  if (has(NUMBER_WORDS)) return { kind: 'number', schema: s };
  return { kind: 'empty', schema: s };
}

/** A sub-schema value found at a keyword, or undefined when absent or not a schema. */
export function subschema(value: unknown): JsonSchema | undefined {
  if (typeof value === 'boolean') return value;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as SchemaObject;
  return undefined;
}

/** Whether a schema accepts anything: `true` or `{}`. */
export function isEmptySchema(s: JsonSchema | undefined): boolean {
  return s === true || (typeof s === 'object' && Object.keys(s).length === 0);
}

/** Escapes a property name for a JSON Pointer fragment (RFC 6901). */
export function pointerToken(name: string): string {
  return name.includes('~') || name.includes('/') ? name.replaceAll('~', '~0').replaceAll('/', '~1') : name;
}
