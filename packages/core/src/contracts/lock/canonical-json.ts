/**
 * JSON with object keys sorted at every level and no whitespace: the same value always gives the same text, so
 * fingerprints and lock files do not change with the order a schema generator happened to write keys in.
 * Array order is kept (it is meaningful in JSON Schema, e.g. `prefixItems`).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
