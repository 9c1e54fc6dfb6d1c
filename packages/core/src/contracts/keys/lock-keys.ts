import type { LockedContract } from '../lock/contracts-lock.js';
import { dataFields } from './data-fields.js';
import type { NamedLock } from './named-lock.js';

type Json = Readonly<Record<string, unknown>>;

/** A key as one lock declares it: by the first contract version (in lock order) keyed by it. */
export interface LockKey {
  readonly name: string;
  readonly description: string;
  readonly schema: Json;
  readonly by: LockedContract;
}

/** A field of a locked contract that carries a key name: the contract's key field, or a data field so named. */
export interface LockField {
  readonly contract: LockedContract;
  readonly key: string;
  readonly field: string;
  readonly as: 'key' | 'field';
  /** The field's JSON Schema (for `as: 'key'`, the key's: `checkEvent` validates the key field against it). */
  readonly schema: Json;
}

/** The keys a lock declares, by name. */
export function keysOf(lock: NamedLock['lock']): Map<string, LockKey> {
  const keys = new Map<string, LockKey>();
  for (const c of lock.contracts) {
    if (!keys.has(c.key.name)) {
      keys.set(c.key.name, { name: c.key.name, description: c.key.description, schema: c.key.schema, by: c });
    }
  }
  return keys;
}

/** Every field of a lock's contracts that carries one of `names`: each contract's key, then fields so named. */
export function fieldsCarrying(lock: NamedLock['lock'], names: ReadonlySet<string>): LockField[] {
  const found: LockField[] = [];
  for (const c of lock.contracts) {
    if (names.has(c.key.name)) {
      found.push({ contract: c, key: c.key.name, field: c.key.field, as: 'key', schema: c.key.schema });
    }
    for (const f of dataFields(c.schema)) {
      if (f.path === c.key.field || !names.has(f.name)) continue;
      found.push({ contract: c, key: f.name, field: f.path, as: 'field', schema: f.schema });
    }
  }
  return found;
}

/** `type vN` of a locked contract version. */
export const versionName = (c: LockedContract) => `${c.type} v${c.version}`;
