import type { JsonSchema, SchemaChange } from './schema-change.js';
import { isCompatibleChange, type SchemaChangeType } from './schema-change-type.js';
import { pointerToken, type SchemaObject } from './schema-node.js';

const ids = new WeakMap<object, number>();
let nextId = 0;
function idOf(s: JsonSchema): number | string {
  if (typeof s === 'boolean') return String(s);
  let id = ids.get(s);
  if (id === undefined) {
    id = nextId++;
    ids.set(s, id);
  }
  return id;
}

/**
 * Where a diff is: the two documents (for `$ref`s within each), the current JSON Pointer, the pairs of schemas
 * being compared further up (a recursive `$ref` meeting itself again is taken as compatible, as Confluent does),
 * and the changes found so far.
 */
export class DiffContext {
  readonly changes: SchemaChange[] = [];
  constructor(
    readonly originalRoot: JsonSchema,
    readonly updateRoot: JsonSchema,
    readonly path: string,
    private readonly inProgress: Set<string>,
    /** Whether an object without `additionalProperties` is open (JSON Schema's meaning) or closed (Sluice's default). */
    readonly openByDefault = false,
  ) {}

  static root(original: JsonSchema, update: JsonSchema, openByDefault = false): DiffContext {
    return new DiffContext(original, update, '#', new Set(), openByDefault);
  }

  /** A context one step deeper (`tokens` are raw property names or keywords, escaped here). */
  at(...tokens: (string | number)[]): DiffContext {
    const path = tokens.reduce<string>((p, t) => `${p}/${pointerToken(String(t))}`, this.path);
    const sub = new DiffContext(
      this.originalRoot,
      this.updateRoot,
      path,
      this.inProgress,
      this.openByDefault,
    );
    (sub as { changes: SchemaChange[] }).changes = this.changes;
    return sub;
  }

  /** A context at the same place collecting into its own list, to try a comparison and keep it or not. */
  trial(): DiffContext {
    return new DiffContext(
      this.originalRoot,
      this.updateRoot,
      this.path,
      this.inProgress,
      this.openByDefault,
    );
  }

  add(change: SchemaChangeType, ...tokens: (string | number)[]): void {
    const path = tokens.reduce<string>((p, t) => `${p}/${pointerToken(String(t))}`, this.path);
    this.changes.push({ path, change, compatible: isCompatibleChange(change) });
  }

  addAll(changes: readonly SchemaChange[]): void {
    this.changes.push(...changes);
  }

  isCompatible(): boolean {
    return this.changes.every((c) => c.compatible);
  }

  /** Runs `fn` unless the pair is already being compared further up (a cycle through `$ref`). */
  guard(original: JsonSchema, update: JsonSchema, fn: () => void): void {
    const key = `${idOf(original)}|${idOf(update)}`;
    if (this.inProgress.has(key)) return;
    this.inProgress.add(key);
    try {
      fn();
    } finally {
      this.inProgress.delete(key);
    }
  }
}

/** Resolves a local `$ref` (`#`, `#/$defs/...`) against its document; other refs are left as empty schemas. */
export function resolveRef(schema: JsonSchema, root: JsonSchema, seen = 0): JsonSchema {
  if (typeof schema !== 'object' || typeof schema['$ref'] !== 'string' || seen > 32) return schema;
  const ref = schema['$ref'];
  if (!ref.startsWith('#')) return true;
  let target: unknown = root;
  for (const raw of ref.slice(1).split('/').slice(1)) {
    const token = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    target = (target as SchemaObject | undefined)?.[token];
  }
  if (typeof target !== 'boolean' && (target === null || typeof target !== 'object')) return true;
  const { $ref: _, $defs: _d, definitions: _e, $schema: _s, ...siblings } = schema;
  const resolved = Object.keys(siblings).length === 0 ? target : { ...(target as SchemaObject), ...siblings };
  return resolveRef(resolved as JsonSchema, root, seen + 1);
}
