import { fieldCarriesKey } from './key-shape.js';
import { fieldsCarrying, keysOf, type LockKey } from './lock-keys.js';
import { type NamedLock, serviceOf } from './named-lock.js';

/** One event version that carries a key: as its key (partitions by it) or in a data field. */
export interface KeyCarrier {
  readonly service: string;
  readonly type: string;
  readonly version: number;
  readonly topic: string;
  readonly field: string;
  readonly as: 'key' | 'field';
  /**
   * False when the field's shape differs from the key's (as its own service declares the key, else as the first
   * lock that does): `createRegistry` or `sluice contracts check --with` reports it.
   */
  readonly sameShape: boolean;
}

/** A key type and every event that carries it: who can join with whom. */
export interface KeyCarriers {
  readonly key: string;
  /** The description of the first lock (in the order given) that declares the key. */
  readonly description: string;
  /** The services that declare the key (have a contract keyed by it), in the order given. */
  readonly declaredBy: readonly string[];
  /** By service (in the order given), then in lock order (type, version), each contract's key field first. */
  readonly carriers: readonly KeyCarrier[];
}

/**
 * Per key type declared in any of `locks` (the key of some contract), every event version of every lock that
 * carries it: as its key, or in a data field named like the key (at any depth). Keys are sorted by name.
 */
export function listKeyCarriers(locks: readonly NamedLock[]): KeyCarriers[] {
  const declared = new Map<string, { key: LockKey; by: string[] }>();
  for (const named of locks) {
    for (const [name, key] of keysOf(named.lock)) {
      const entry = declared.get(name);
      if (entry === undefined) declared.set(name, { key, by: [serviceOf(named)] });
      else entry.by.push(serviceOf(named));
    }
  }
  const names = new Set(declared.keys());
  const carriers = new Map<string, KeyCarrier[]>([...names].map((n) => [n, []]));
  for (const named of locks) {
    const own = keysOf(named.lock);
    for (const f of fieldsCarrying(named.lock, names)) {
      const key = own.get(f.key) ?? declared.get(f.key)!.key;
      carriers.get(f.key)!.push({
        service: serviceOf(named),
        type: f.contract.type,
        version: f.contract.version,
        topic: f.contract.topic.name,
        field: f.field,
        as: f.as,
        sameShape: f.as === 'key' || fieldCarriesKey(f.schema, key.schema),
      });
    }
  }
  return [...declared.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, { key, by }]) => ({
      key: name,
      description: key.description,
      declaredBy: [...new Set(by)],
      carriers: carriers.get(name)!,
    }));
}
