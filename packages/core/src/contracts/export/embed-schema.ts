type Schema = Readonly<Record<string, unknown>>;

/**
 * A standalone JSON Schema made fit to live at `pointer` inside a bigger document (AsyncAPI's
 * `components.schemas`): `$schema` and `$id` dropped (the document says the format, and an `$id` would
 * re-base references), and local references (`#/$defs/X`, `#`) rewritten to point under `pointer`.
 */
export function embedSchema(schema: Schema, pointer: string): Record<string, unknown> {
  const { $schema: _s, $id: _i, ...rest } = schema;
  return rewrite(rest, pointer) as Record<string, unknown>;
}

function rewrite(value: unknown, pointer: string): unknown {
  if (Array.isArray(value)) return value.map((v) => rewrite(v, pointer));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] =
      k === '$ref' && typeof v === 'string' && v.startsWith('#') ? pointer + v.slice(1) : rewrite(v, pointer);
  }
  return out;
}
