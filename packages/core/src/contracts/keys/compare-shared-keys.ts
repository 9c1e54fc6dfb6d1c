import type { ContractsLock } from '../lock/contracts-lock.js';
import type { KeyMismatch, KeyMismatchSide } from './key-mismatch.js';
import { fieldCarriesKey, keySchemaText, schemaDifference } from './key-shape.js';
import { fieldsCarrying, keysOf, type LockKey, versionName } from './lock-keys.js';
import { type NamedLock, serviceOf } from './named-lock.js';

/**
 * Compares a service's shared keys with other services' (`sluice contracts check --with`), lock against lock:
 * - a key both declare (as some contract's key) must have the same JSON Schema (canonical JSON, without
 *   `$schema`) and the same description: its meaning;
 * - a data field of one service named like a key the other declares must have that key's schema (or it or
 *   null), e.g. enrollments' `courseId` field against the catalogue's `CourseId` key.
 * Returns every mismatch, own service first in each; an empty array when the services agree. Fields named
 * like a key the same service declares are `createRegistry`'s check, not this one.
 */
export function compareSharedKeys(
  own: ContractsLock | NamedLock,
  others: readonly NamedLock[],
): KeyMismatch[] {
  const mine: NamedLock = 'lock' in own ? own : { name: 'this service', lock: own };
  const mismatches: KeyMismatch[] = [];
  const myKeys = keysOf(mine.lock);
  for (const other of others) {
    const theirKeys = keysOf(other.lock);
    for (const [name, key] of myKeys) {
      const theirs = theirKeys.get(name);
      if (theirs !== undefined) mismatches.push(...compareKeys(mine, key, other, theirs));
    }
    for (const f of fieldsCarrying(mine.lock, new Set(theirKeys.keys()))) {
      const theirs = theirKeys.get(f.key)!;
      if (f.as === 'key' || myKeys.has(f.key) || fieldCarriesKey(f.schema, theirs.schema)) continue;
      const ownSide = side(mine, f.contract, f.field, 'field');
      const otherSide = keySide(other, theirs);
      mismatches.push(
        fieldMismatch(f.key, ownSide, otherSide, schemaDifference(f.schema, theirs.schema, true)),
      );
    }
    for (const f of fieldsCarrying(other.lock, new Set(myKeys.keys()))) {
      const key = myKeys.get(f.key)!;
      if (f.as === 'key' || theirKeys.has(f.key) || fieldCarriesKey(f.schema, key.schema)) continue;
      const ownSide = keySide(mine, key);
      const otherSide = side(other, f.contract, f.field, 'field');
      mismatches.push(fieldMismatch(f.key, ownSide, otherSide, schemaDifference(key.schema, f.schema, true)));
    }
  }
  return mismatches;
}

function compareKeys(mine: NamedLock, key: LockKey, other: NamedLock, theirs: LockKey): KeyMismatch[] {
  const ownSide = keySide(mine, key);
  const otherSide = keySide(other, theirs);
  const where = `key ${key.name}: ${at(ownSide)} and ${at(otherSide)}`;
  const found: KeyMismatch[] = [];
  if (keySchemaText(key.schema) !== keySchemaText(theirs.schema)) {
    const difference = schemaDifference(key.schema, theirs.schema);
    found.push({
      key: key.name,
      kind: 'schema',
      own: ownSide,
      other: otherSide,
      difference,
      message: `${where} declare different schemas (${difference}); agree on one and declare it once (share the defineKey module)`,
    });
  }
  if (key.description !== theirs.description) {
    const difference = `${JSON.stringify(key.description)} vs ${JSON.stringify(theirs.description)}`;
    found.push({
      key: key.name,
      kind: 'description',
      own: ownSide,
      other: otherSide,
      difference,
      message: `${where} give it different meanings (${difference}); if it is the same identifier use one description, else rename one key`,
    });
  }
  return found;
}

function fieldMismatch(
  key: string,
  own: KeyMismatchSide,
  other: KeyMismatchSide,
  difference: string,
): KeyMismatch {
  const [field, declaring] = own.as === 'field' ? [own, other] : [other, own];
  return {
    key,
    kind: 'field',
    own,
    other,
    difference,
    message: `key ${key}: field ${field.field} of ${field.contract} (${field.service}) has another shape than the key of ${declaring.contract} (${declaring.service}) (${difference}, ${own === field ? 'field vs key' : 'key vs field'}); give the field the key's schema, or rename it if it is another identifier`,
  };
}

function keySide(named: NamedLock, key: LockKey): KeyMismatchSide {
  return side(named, key.by, key.by.key.field, 'key');
}

function side(
  named: NamedLock,
  contract: LockKey['by'],
  field: string,
  as: 'key' | 'field',
): KeyMismatchSide {
  return { service: serviceOf(named), contract: versionName(contract), field, as };
}

const at = (s: KeyMismatchSide) => `${s.contract} (${s.service})`;
