/** One field of an event's data, found in its JSON Schema. */
export interface DataField {
  /** Dotted path from the data's root; `[]` marks array items, e.g. `lines[].courseId`. */
  readonly path: string;
  /** The field's own name (the last segment of the path): what a key name is matched against. */
  readonly name: string;
  readonly schema: Readonly<Record<string, unknown>>;
}

/**
 * Every named field of a data JSON Schema: object `properties` at any depth, through array `items` and local
 * `$ref`s to `#/$defs/…` (followed once per path, so recursive schemas end).
 */
export function dataFields(root: Readonly<Record<string, unknown>>): DataField[] {
  const found: DataField[] = [];
  const visit = (schema: unknown, prefix: string, seen: ReadonlySet<string>) => {
    if (!isObject(schema)) return;
    const ref = schema['$ref'];
    if (typeof ref === 'string' && ref.startsWith('#/$defs/') && !seen.has(ref)) {
      const defs = root['$defs'];
      const target = isObject(defs) ? defs[ref.slice('#/$defs/'.length)] : undefined;
      visit(target, prefix, new Set([...seen, ref]));
      return;
    }
    const properties = schema['properties'];
    if (isObject(properties)) {
      for (const [name, child] of Object.entries(properties)) {
        if (!isObject(child)) continue;
        const path = prefix ? `${prefix}.${name}` : name;
        found.push({ path, name, schema: resolve(child, root) });
        visit(child, path, seen);
      }
    }
    if (isObject(schema['items'])) visit(schema['items'], `${prefix}[]`, seen);
  };
  visit(root, '', new Set());
  return found;
}

function resolve(schema: Record<string, unknown>, root: Readonly<Record<string, unknown>>) {
  const ref = schema['$ref'];
  if (typeof ref !== 'string' || !ref.startsWith('#/$defs/')) return schema;
  const defs = root['$defs'];
  const target = isObject(defs) ? defs[ref.slice('#/$defs/'.length)] : undefined;
  return isObject(target) ? target : schema;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
