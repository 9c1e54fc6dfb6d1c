import { regexExample } from './regex-example.js';

type Schema = Readonly<Record<string, unknown>>;

/** Values for string formats, each valid for the format and for the patterns validators usually pair it with. */
const FORMAT_EXAMPLES: Readonly<Record<string, string>> = {
  uuid: '0190a5c2-7a1e-7000-8000-00000000000e',
  'date-time': '2026-12-07T09:30:00Z',
  date: '2026-12-07',
  time: '09:30:00',
  duration: 'P1D',
  email: 'ada@example.com',
  'idn-email': 'ada@example.com',
  uri: 'https://example.com/',
  'uri-reference': 'https://example.com/',
  iri: 'https://example.com/',
  url: 'https://example.com/',
  hostname: 'example.com',
  ipv4: '192.0.2.1',
  ipv6: '2001:db8::1',
  cuid: 'cjld2cjxh0000qzrmn831i7rn',
  cuid2: 'tz4a98xxat96iws9zmbrgj3a',
  ulid: '01ARZ3NDEKTSV4RRFFQ69G5FAV',
  nanoid: 'V1StGXR8_Z5jdHi6B-myT',
  base64: 'U2x1aWNl',
  jwt: 'eyJhbGciOiJub25lIn0.e30.',
};

/**
 * A small deterministic example of a value valid against `schema` (JSON Schema draft 2020-12 as Sluice's
 * contracts export it): every property of an object (optional ones too, so the example shows them), the
 * minimum length of arrays and strings, the lowest allowed number, the first enum member or `anyOf` branch,
 * format-shaped strings (`uuid`, `date-time`, `email`, ...) and strings generated from `pattern`. `#/$defs`
 * and `#` references are followed; below the top levels only required fields and items are filled, so the
 * example of a recursive schema ends. The result is a good example, not a proof: `sluice contracts docs` and
 * the AsyncAPI export show it, and its tests validate it with `checkEvent`.
 */
export function exampleOf(schema: Schema): unknown {
  return new Examples(schema).of(schema, '', 0);
}

class Examples {
  constructor(private readonly root: Schema) {}

  of(schema: Schema | boolean | undefined, name: string, depth: number): unknown {
    if (schema === undefined || typeof schema === 'boolean') return null;
    if (depth > 40) return null; // a schema that requires its own recursion has no finite example
    if (typeof schema['$ref'] === 'string') return this.of(this.resolve(schema['$ref']), name, depth + 1);
    if ('const' in schema) return schema['const'];
    if (Array.isArray(schema['enum']) && schema['enum'].length > 0) return schema['enum'][0];
    if ('default' in schema && schema['default'] !== undefined) return schema['default'];
    if (Array.isArray(schema['examples']) && schema['examples'].length > 0) return schema['examples'][0];
    const branches = (schema['anyOf'] ?? schema['oneOf']) as Schema[] | undefined;
    if (Array.isArray(branches) && branches.length > 0) {
      const branch = branches.find((b) => b['type'] !== 'null') ?? branches[0]!;
      return this.of({ ...withoutKeys(schema, 'anyOf', 'oneOf'), ...branch }, name, depth);
    }
    if (Array.isArray(schema['allOf'])) {
      const merged = (schema['allOf'] as Schema[]).reduce<Schema>(
        (acc, s) => mergeSchemas(acc, this.deref(s)),
        withoutKeys(schema, 'allOf'),
      );
      return this.of(merged, name, depth);
    }
    switch (typeOf(schema)) {
      case 'object':
        return this.object(schema, depth);
      case 'array':
        return this.array(schema, name, depth);
      case 'string':
        return stringExample(schema, name);
      case 'integer':
        return numberExample(schema, true);
      case 'number':
        return numberExample(schema, false);
      case 'boolean':
        return true;
      default:
        return null;
    }
  }

  private object(schema: Schema, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const props = (schema['properties'] ?? {}) as Record<string, Schema>;
    const required = new Set((schema['required'] ?? []) as string[]);
    for (const [key, sub] of Object.entries(props)) {
      // Deep optional parts of a recursive schema are left out so the example stays finite.
      if (depth > 3 && !required.has(key)) continue;
      out[key] = this.of(sub, key, depth + 1);
    }
    for (const key of required) if (!(key in out)) out[key] = null;
    return out;
  }

  private array(schema: Schema, name: string, depth: number): unknown[] {
    const prefix = (schema['prefixItems'] ?? []) as Schema[];
    // Below the top levels, arrays get only the items they must have, so recursive schemas end.
    const min = Math.max(Number(schema['minItems'] ?? 0), prefix.length, depth > 3 ? 0 : 1);
    const items = schema['items'] as Schema | boolean | undefined;
    const out: unknown[] = prefix.map((s) => this.of(s, name, depth + 1));
    while (out.length < min && items !== false)
      out.push(this.of(items === true ? undefined : items, name, depth + 1));
    return out;
  }

  private deref(schema: Schema): Schema {
    return typeof schema['$ref'] === 'string' ? this.resolve(schema['$ref']) : schema;
  }

  private resolve(ref: string): Schema {
    if (!ref.startsWith('#')) return {};
    let at: unknown = this.root;
    for (const raw of ref.slice(1).split('/').filter(Boolean)) {
      const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      at = at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined;
    }
    return at !== null && typeof at === 'object' ? (at as Schema) : {};
  }
}

function typeOf(schema: Schema): string | undefined {
  const t = schema['type'];
  if (Array.isArray(t)) return (t.find((x) => x !== 'null') ?? t[0]) as string | undefined;
  if (typeof t === 'string') return t;
  if (schema['properties']) return 'object';
  if (schema['items'] || schema['prefixItems']) return 'array';
  return undefined;
}

function stringExample(schema: Schema, name: string): string {
  const format = typeof schema['format'] === 'string' ? schema['format'] : undefined;
  const pattern = typeof schema['pattern'] === 'string' ? schema['pattern'] : undefined;
  const min = Number(schema['minLength'] ?? 0);
  const max = schema['maxLength'] === undefined ? Number.POSITIVE_INFINITY : Number(schema['maxLength']);
  const candidates = [
    format === undefined ? undefined : FORMAT_EXAMPLES[format],
    pattern === undefined ? name || 'example' : undefined,
  ];
  for (const c of candidates) {
    if (c === undefined) continue;
    const fitted = fit(c, min, max);
    if (pattern === undefined || matches(pattern, fitted)) return fitted;
  }
  if (pattern !== undefined) {
    const generated = regexExample(pattern);
    if (generated !== undefined && generated.length >= min && generated.length <= max) return generated;
  }
  return fit(name || 'example', min, max);
}

/** Pads with `x` to `min` characters, cuts to `max`. */
function fit(s: string, min: number, max: number): string {
  const padded = s.length < min ? s + 'x'.repeat(min - s.length) : s;
  return padded.length > max ? padded.slice(0, max) : padded;
}

function matches(pattern: string, s: string): boolean {
  try {
    return new RegExp(pattern, 'u').test(s);
  } catch {
    return false;
  }
}

function numberExample(schema: Schema, integer: boolean): number {
  const num = (k: string): number | undefined =>
    typeof schema[k] === 'number' ? (schema[k] as number) : undefined;
  const step = num('multipleOf') ?? (integer ? 1 : undefined);
  let value = 1;
  const lo = num('minimum');
  const exLo = num('exclusiveMinimum');
  const hi = num('maximum');
  const exHi = num('exclusiveMaximum');
  if (lo !== undefined) value = lo;
  else if (exLo !== undefined) value = exLo + (step ?? 1);
  else if (hi !== undefined && value > hi) value = hi;
  else if (exHi !== undefined && value >= exHi) value = exHi - (step ?? 1);
  if (step !== undefined) value = Math.ceil(value / step) * step;
  if (exLo !== undefined && value <= exLo) value += step ?? 1;
  return value;
}

function withoutKeys(schema: Schema, ...keys: string[]): Schema {
  const out: Record<string, unknown> = { ...schema };
  for (const k of keys) delete out[k];
  return out;
}

/** `allOf` members merged: properties and required lists united, other keywords of later members win. */
function mergeSchemas(a: Schema, b: Schema): Schema {
  const out: Record<string, unknown> = { ...a, ...b };
  if (a['properties'] || b['properties'])
    out['properties'] = { ...((a['properties'] ?? {}) as object), ...((b['properties'] ?? {}) as object) };
  if (a['required'] || b['required'])
    out['required'] = [...((a['required'] ?? []) as string[]), ...((b['required'] ?? []) as string[])];
  return out;
}
