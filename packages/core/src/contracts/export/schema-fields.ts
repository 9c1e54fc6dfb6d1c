type Schema = Readonly<Record<string, unknown>>;

/** One field of a contract's data, as the catalogue's fields table shows it. */
export interface SchemaField {
  /** Dotted path from the data's root; array elements as `name[]` (e.g. `lines[].sku`). */
  readonly path: string;
  /** JSON type(s), e.g. `string`, `integer`, `object`, `string | null`, or `any`. */
  readonly type: string;
  /** Whether the field must be present (in its parent object). */
  readonly required: boolean;
  /** Constraints in words: `format uuid`, `pattern ^C-\d+$`, `0 ≤ value ≤ 100`, `one of a, b`, ... */
  readonly constraints: readonly string[];
  readonly description?: string;
}

/**
 * The fields of a data schema (JSON Schema draft 2020-12), depth first in declaration order: each property,
 * nested objects' properties under their dotted path, array items under `name[]`. `#/$defs` references are
 * followed once per path (a recursive schema is shown to the depth it first repeats).
 */
export function schemaFields(schema: Schema): SchemaField[] {
  const out: SchemaField[] = [];
  const visit = (s: Schema, prefix: string, seen: ReadonlySet<string>) => {
    const props = (s['properties'] ?? {}) as Record<string, Schema>;
    const required = new Set((s['required'] ?? []) as string[]);
    for (const [name, raw] of Object.entries(props)) {
      const path = prefix ? `${prefix}.${name}` : name;
      field(raw, path, required.has(name), seen);
    }
  };
  const field = (raw: Schema, path: string, required: boolean, seen: ReadonlySet<string>) => {
    const ref = typeof raw['$ref'] === 'string' ? raw['$ref'] : undefined;
    const s = ref === undefined ? raw : { ...resolve(schema, ref), ...withoutRef(raw) };
    const description = typeof s['description'] === 'string' ? s['description'] : undefined;
    out.push({
      path,
      type: typeText(s),
      required,
      constraints: constraintsOf(s),
      ...(description === undefined ? {} : { description }),
    });
    if (ref !== undefined && seen.has(ref)) return;
    const next = ref === undefined ? seen : new Set([...seen, ref]);
    const inner = nonNull(s);
    if (inner['properties']) visit(inner, path, next);
    const items = inner['items'];
    if (items && typeof items === 'object') {
      const it = items as Schema;
      if (it['properties'] || it['$ref'] || it['items']) field(it, `${path}[]`, true, next);
    }
  };
  visit(nonNull(schema), '', new Set());
  return out;
}

/** The object branch of a nullable `anyOf` (`T | null`), or the schema itself. */
function nonNull(s: Schema): Schema {
  const branches = (s['anyOf'] ?? s['oneOf']) as Schema[] | undefined;
  if (!Array.isArray(branches)) return s;
  const objects = branches.filter((b) => b['type'] !== 'null');
  return objects.length === 1 ? objects[0]! : s;
}

function withoutRef(s: Schema): Schema {
  const { $ref: _, ...rest } = s;
  return rest;
}

function resolve(root: Schema, ref: string): Schema {
  if (!ref.startsWith('#')) return { description: `see ${ref}` };
  let at: unknown = root;
  for (const raw of ref.slice(1).split('/').filter(Boolean)) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    at = at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined;
  }
  return at !== null && typeof at === 'object' ? (at as Schema) : {};
}

function typeText(s: Schema): string {
  if ('const' in s) return typeof s['const'] === 'string' ? 'string' : typeof s['const'];
  const t = s['type'];
  if (Array.isArray(t)) return t.join(' | ');
  if (typeof t === 'string') return t;
  const branches = (s['anyOf'] ?? s['oneOf']) as Schema[] | undefined;
  if (Array.isArray(branches)) return [...new Set(branches.map(typeText))].join(' | ');
  if (Array.isArray(s['enum']))
    return [...new Set(s['enum'].map((v) => (v === null ? 'null' : typeof v)))].join(' | ');
  if (s['properties']) return 'object';
  return 'any';
}

function constraintsOf(s: Schema): string[] {
  const c: string[] = [];
  const n = (k: string) => (typeof s[k] === 'number' ? (s[k] as number) : undefined);
  if ('const' in s) c.push(`always ${JSON.stringify(s['const'])}`);
  if (Array.isArray(s['enum'])) c.push(`one of ${s['enum'].map((v) => JSON.stringify(v)).join(', ')}`);
  if (typeof s['format'] === 'string') c.push(`format ${s['format']}`);
  // A format's pattern only repeats the format (zod writes both); show a pattern when no format explains it.
  if (typeof s['pattern'] === 'string' && typeof s['format'] !== 'string') c.push(`pattern ${s['pattern']}`);
  const lo = n('minimum') ?? n('exclusiveMinimum');
  const hi = n('maximum') ?? n('exclusiveMaximum');
  const loOp = n('minimum') !== undefined ? '≤' : '<';
  const hiOp = n('maximum') !== undefined ? '≤' : '<';
  const big = (v: number) => Math.abs(v) >= Number.MAX_SAFE_INTEGER;
  const loText = lo === undefined || big(lo) ? undefined : `${lo} ${loOp} `;
  const hiText = hi === undefined || big(hi) ? undefined : ` ${hiOp} ${hi}`;
  if (loText !== undefined || hiText !== undefined) c.push(`${loText ?? ''}value${hiText ?? ''}`);
  if (n('multipleOf') !== undefined) c.push(`multiple of ${n('multipleOf')}`);
  if (n('minLength') !== undefined) c.push(`length ≥ ${n('minLength')}`);
  if (n('maxLength') !== undefined) c.push(`length ≤ ${n('maxLength')}`);
  if (n('minItems') !== undefined) c.push(`items ≥ ${n('minItems')}`);
  if (n('maxItems') !== undefined) c.push(`items ≤ ${n('maxItems')}`);
  if (s['uniqueItems'] === true) c.push('unique items');
  if (s['additionalProperties'] === false) c.push('no other fields');
  if ('default' in s) c.push(`default ${JSON.stringify(s['default'])}`);
  return c;
}
