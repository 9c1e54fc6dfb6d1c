import { schemaFields } from '@sluice/core';
import type { CatalogueEntry } from './catalogue-sources.js';

/** One event version that carries a key: as its key, or as a field of the key's name. */
export interface KeyCarrier {
  readonly entry: CatalogueEntry;
  readonly as: 'key' | 'field';
  /** The data field (dotted path) holding the key. */
  readonly field: string;
}

/** A key type of the catalogue: every definition seen for the name (more than one means they disagree). */
export interface CatalogueKey {
  readonly name: string;
  readonly definitions: readonly { readonly description: string; readonly schema: object }[];
  readonly carriers: readonly KeyCarrier[];
}

/**
 * The key types of the catalogue's contracts (every contract's `key`), each with the events that carry it:
 * as their key, or as a data field of the same name at any depth (`courseId`, `course.courseId`). That is who
 * can join with whom: consumers of two carriers can join their events on the key locally.
 */
export function catalogueKeys(entries: readonly CatalogueEntry[]): CatalogueKey[] {
  const keys = new Map<string, { definitions: Map<string, { description: string; schema: object }> }>();
  for (const e of entries) {
    const k = e.contract.key;
    const found = keys.get(k.name) ?? { definitions: new Map() };
    found.definitions.set(JSON.stringify([k.description, k.schema]), {
      description: k.description,
      schema: k.schema,
    });
    keys.set(k.name, found);
  }
  return [...keys.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, { definitions }]) => {
      const carriers: KeyCarrier[] = [];
      for (const entry of entries) {
        const c = entry.contract;
        if (c.key.name === name) {
          carriers.push({ entry, as: 'key', field: c.key.field });
          continue;
        }
        const field = schemaFields(c.schema).find(
          (f) => f.path.split('.').at(-1)?.replace(/\[\]$/, '') === name,
        );
        if (field !== undefined) carriers.push({ entry, as: 'field', field: field.path });
      }
      return { name, definitions: [...definitions.values()], carriers };
    });
}
