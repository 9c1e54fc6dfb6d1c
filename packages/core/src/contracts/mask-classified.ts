import { createHash } from 'node:crypto';
import type { FieldClassification } from './contract-guarantees.js';
import type { EventContract } from './define-event.js';

/** What {@link maskClassified} may leave visible. `secret` fields are never shown. */
export interface MaskOptions {
  /** `'personal'`: show `personal` fields as they are (the caller audits that it did). */
  readonly show?: 'personal';
}

/** What a masked `secret` field shows: nothing of the value, not even a hash (a hash of a password can be guessed). */
export const SECRET_MASK = '***';

/**
 * What a masked `personal` field shows: `***#` and the first 4 hex digits of the SHA-256 of the value's JSON,
 * e.g. `"***#a1b2"`. Equal values show the same mask, so an operator can see that two events are about the same
 * person without seeing who; 16 bits are too few to tell one person among many, so the mask identifies no one.
 */
export function personalMask(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return `***#${createHash('sha256').update(text).digest('hex').slice(0, 4)}`;
}

/**
 * A copy of an event's data with the contract's classified fields masked: `secret` fields always become
 * {@link SECRET_MASK}; `personal` fields become {@link personalMask} unless `show: 'personal'`. A classification
 * path is dotted (`email`, `address.street`); an array met on the way is crossed element by element, so
 * `attendees.email` masks the `email` of every attendee. A classified field that is missing or null stays as it
 * is; a classified object or array is masked whole. `data` itself is never changed.
 */
export function maskClassified<T>(
  contract: Pick<EventContract, 'classification'>,
  data: T,
  options: MaskOptions = {},
): T {
  const entries = Object.entries(contract.classification).filter(
    ([, c]) => c === 'secret' || options.show !== 'personal',
  );
  if (entries.length === 0 || data === null || typeof data !== 'object') return data;
  let copy = data as unknown;
  for (const [path, classification] of entries) copy = maskPath(copy, path.split('.'), classification);
  return copy as T;
}

/** Masks `segments` under `value`, copying only what it changes. */
function maskPath(value: unknown, segments: readonly string[], classification: FieldClassification): unknown {
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((item) => {
      const masked = maskPath(item, segments, classification);
      if (masked !== item) changed = true;
      return masked;
    });
    return changed ? out : value;
  }
  if (value === null || typeof value !== 'object') return value;
  const [head, ...rest] = segments;
  const record = value as Record<string, unknown>;
  if (head === undefined || !Object.hasOwn(record, head)) return value;
  const field = record[head];
  if (field === null || field === undefined) return value;
  const masked =
    rest.length > 0
      ? maskPath(field, rest, classification)
      : classification === 'secret'
        ? SECRET_MASK
        : personalMask(field);
  return masked === field ? value : { ...record, [head]: masked };
}

/**
 * The classification of a field path as a validator reports it (`attendees.3.email`: array indices are
 * ignored), or of the classified field that contains it; undefined when the field is not classified.
 */
export function classificationAt(
  classification: Readonly<Record<string, FieldClassification>>,
  path: readonly PropertyKey[],
): FieldClassification | undefined {
  const names = path.filter((p) => typeof p === 'string' && !/^\d+$/.test(p)) as string[];
  let found: FieldClassification | undefined;
  for (let i = 1; i <= names.length; i++) {
    const c = classification[names.slice(0, i).join('.')];
    if (c === 'secret') return c;
    found ??= c;
  }
  return found;
}
