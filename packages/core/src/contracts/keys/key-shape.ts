import { canonicalJson } from '../lock/canonical-json.js';

type Json = Readonly<Record<string, unknown>>;

/** Annotations that say nothing about which values a schema accepts. */
const ANNOTATIONS = ['$schema', '$id', '$comment', 'title', 'description', 'examples'];

/**
 * The canonical JSON of a key type's JSON Schema, without `$schema` (a key's top-level schema has it, a field's
 * does not): two key declarations are the same key when these texts are equal and so are their descriptions.
 */
export function keySchemaText(schema: Json): string {
  const { $schema: _, ...rest } = schema;
  return canonicalJson(rest);
}

/** The canonical JSON of a schema's shape: without top-level annotations (title, description, examples, …). */
export function shapeText(schema: Json): string {
  const rest: Record<string, unknown> = { ...schema };
  for (const a of ANNOTATIONS) delete rest[a];
  return canonicalJson(rest);
}

/**
 * Whether a data field's JSON Schema carries the key whose values `keySchema` describes: the same shape, or that
 * shape or null (`anyOf` / `oneOf` of the two: an optional reference, e.g. zod's `.nullable()`). Whether the
 * field is required is its parent's business (`required`), so an optional field carries the key too.
 */
export function fieldCarriesKey(fieldSchema: Json, keySchema: Json): boolean {
  const key = shapeText(keySchema);
  if (shapeText(fieldSchema) === key) return true;
  const union = fieldSchema['anyOf'] ?? fieldSchema['oneOf'];
  if (!Array.isArray(union) || union.length !== 2) return false;
  const texts = union.map((s) => (isObject(s) ? shapeText(s) : '')).sort();
  return texts.includes(key) && texts.includes(canonicalJson({ type: 'null' }));
}

/**
 * Where two JSON Schemas differ, in words: up to three JSON Pointers with the value on each side, e.g.
 * `/pattern: "^C-\\d{1,6}$" vs "^C-\\d+$"`. Top-level annotations are left out when `shapeOnly`.
 */
export function schemaDifference(a: Json, b: Json, shapeOnly = false): string {
  const strip = (s: Json) => (shapeOnly ? JSON.parse(shapeText(s)) : JSON.parse(keySchemaText(s)));
  const found: string[] = [];
  diff(strip(a), strip(b), '', found);
  const shown = found.slice(0, 3).join('; ');
  return found.length > 3 ? `${shown}; and ${found.length - 3} more` : shown || 'no difference';
}

function diff(a: unknown, b: unknown, at: string, found: string[]): void {
  if (canonicalJson(a) === canonicalJson(b)) return;
  if (isObject(a) && isObject(b)) {
    const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const n of names) diff(a[n], b[n], `${at}/${n.replaceAll('~', '~0').replaceAll('/', '~1')}`, found);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    for (const [i, v] of a.entries()) diff(v, b[i], `${at}/${i}`, found);
    return;
  }
  found.push(`${at || '/'}: ${show(a)} vs ${show(b)}`);
}

function show(v: unknown): string {
  return v === undefined ? '(absent)' : canonicalJson(v);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
