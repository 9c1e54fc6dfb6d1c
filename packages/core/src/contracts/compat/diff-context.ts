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
  private pathCache: string | undefined;
  private constructor(
    readonly originalRoot: JsonSchema,
    readonly updateRoot: JsonSchema,
    /** Where this context is: its parent and the (unescaped) tokens below it; the path is built on demand. */
    private readonly parent: DiffContext | undefined,
    private readonly tokens: readonly (string | number)[],
    private readonly inProgress: Set<string>,
    /** Whether an object without `additionalProperties` is open (JSON Schema's meaning) or closed (Sluice's default). */
    readonly openByDefault: boolean,
    readonly changes: SchemaChange[],
  ) {}

  static root(original: JsonSchema, update: JsonSchema, openByDefault = false): DiffContext {
    return new DiffContext(original, update, undefined, [], new Set(), openByDefault, []);
  }

  /** How many contexts deep this one is (a bound on recursion). */
  get depth(): number {
    let d = 0;
    for (let c: DiffContext | undefined = this; c !== undefined; c = c.parent) d++;
    return d;
  }

  /** The JSON Pointer fragment of this context, e.g. `#/properties/address`. */
  get path(): string {
    if (this.pathCache === undefined) this.pathCache = join(this.parent?.path ?? '#', this.tokens);
    return this.pathCache;
  }

  /** A context one step deeper (`tokens` are raw property names or keywords, escaped when the path is built). */
  at(...tokens: (string | number)[]): DiffContext {
    return new DiffContext(
      this.originalRoot,
      this.updateRoot,
      this,
      tokens,
      this.inProgress,
      this.openByDefault,
      this.changes,
    );
  }

  /** A context at the same place collecting into its own list, to try a comparison and keep it or not. */
  trial(): DiffContext {
    return new DiffContext(
      this.originalRoot,
      this.updateRoot,
      this,
      [],
      this.inProgress,
      this.openByDefault,
      [],
    );
  }

  add(change: SchemaChangeType, ...tokens: (string | number)[]): void {
    this.changes.push({ path: join(this.path, tokens), change, compatible: isCompatibleChange(change) });
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

function join(path: string, tokens: readonly (string | number)[]): string {
  let out = path;
  for (const t of tokens) out = `${out}/${typeof t === 'number' ? t : pointerToken(t)}`;
  return out;
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
