import { type ChangeMapping, defineEvent, defineKey, defineTopic, mapped } from '@sluice/core';
import { z } from 'zod';

/** The legacy table the query-based fault test writes to (timestamp+incrementing), and its mapping. */
export const itemsTableSql = (table: string) =>
  `CREATE TABLE ${table} (id serial PRIMARY KEY, title text NOT NULL,
     updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
   CREATE INDEX ON ${table} (updated_at, id)`;

export const ItemId = defineKey('itemId', z.string().regex(/^item-\d+$/), { description: 'an item' });
export const queryItems = defineTopic({ name: 'query-items', kind: 'event', partitions: 4 });
export const ItemChanged = defineEvent({
  type: 'item.changed',
  version: 1,
  key: ItemId,
  topic: queryItems,
  description: 'an item row was inserted or updated (its state as polled)',
  schema: z.object({ itemId: z.string(), title: z.string() }),
});

export const mapItem: ChangeMapping = (c) => {
  const row = c.after as { id: number; title: string };
  return [mapped(ItemChanged, { itemId: `item-${row.id}`, title: row.title })];
};
