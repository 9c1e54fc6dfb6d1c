import { type ChangeMapping, defineEvent, defineKey, defineTopic, mapped } from '@sluice/core';
import { z } from 'zod';

/**
 * A large legacy table that existed before change capture started: only a backfill can bring its rows to the
 * bus. Its events go to an entity topic (latest state per item), where snapshot rows belong.
 */
export const catalogTableSql = (table: string, rows: number) => [
  `CREATE TABLE ${table} (id int PRIMARY KEY, label text NOT NULL, stock int NOT NULL)`,
  `INSERT INTO ${table} SELECT g, 'initial-' || g, g % 100 FROM generate_series(1, ${rows}) g`,
];

export const ItemId = defineKey('itemId', z.string().regex(/^item-\d+$/), {
  description: 'a catalogue item',
});
export const cdcCatalog = defineTopic({ name: 'cdc-catalog', kind: 'entity', partitions: 4 });
export const ItemState = defineEvent({
  type: 'catalog.item',
  version: 1,
  key: ItemId,
  topic: cdcCatalog,
  description: 'the current state of a catalogue item (from a snapshot, an insert or an update)',
  schema: z.object({ itemId: z.string(), label: z.string(), stock: z.int() }),
});
export const ItemRemoved = defineEvent({
  type: 'catalog.item.removed',
  version: 1,
  key: ItemId,
  topic: cdcCatalog,
  description: 'a catalogue item was deleted',
  schema: z.object({ itemId: z.string() }),
});

export const mapCatalog: ChangeMapping = (c) => {
  if (c.operation === 'delete') return [mapped(ItemRemoved, { itemId: `item-${c.before!['id']}` })];
  const row = c.after as { id: number; label: string; stock: number };
  return [mapped(ItemState, { itemId: `item-${row.id}`, label: row.label, stock: row.stock })];
};
