import { type ChangeMapping, defineEvent, defineKey, defineTopic, type Envelope, mapped } from '@sluice/core';
import { sleep } from '@sluice/core/adapter';
import { z } from 'zod';

/**
 * A large legacy table that existed before change capture started: only a backfill can bring its rows to the
 * bus. Its events go to an entity topic (latest state per item), where snapshot rows belong.
 */
export const catalogTableSql = (table: string) =>
  `CREATE TABLE ${table} (id int PRIMARY KEY, label varchar(40) NOT NULL, stock int NOT NULL)`;

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
  if (c.operation === 'truncate') throw new Error('the catalog was truncated: backfill it');
  const row = c.after as { id: number; label: string; stock: number };
  return [mapped(ItemState, { itemId: `item-${row.id}`, label: row.label, stock: row.stock })];
};

/** The catalog as a map from `item-<id>` to `label/stock`. */
export type Catalog = Map<string, string>;

/** One writer session on the catalog table, in whatever driver the database under test has. */
export interface CatalogSession {
  /** Inserts the row, or sets its label and adds one to its stock. */
  upsert(id: number, label: string): Promise<void>;
  remove(id: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * One writer changing the catalog until stopped (ids up to `rows + 1000`, 10% deletes, autocommit), reconnecting
 * after connection errors (the server restarts); `stop` resolves how many writes it made.
 */
export function startCatalogWriter(options: {
  readonly rows: number;
  readonly connect: () => Promise<CatalogSession>;
  readonly isConnectionError: (error: unknown) => boolean;
}): { stop(): Promise<number> } {
  let stopped = false;
  let writes = 0;
  const loop = (async () => {
    while (!stopped) {
      let session: CatalogSession | undefined;
      try {
        session = await options.connect();
        while (!stopped) {
          const id = 1 + Math.floor(Math.random() * (options.rows + 1000));
          if (Math.random() < 0.1) await session.remove(id);
          else await session.upsert(id, `live-${writes}`);
          writes++;
        }
      } catch (error) {
        if (!options.isConnectionError(error)) throw error;
        await sleep(50);
      } finally {
        await session?.close().catch(() => undefined);
      }
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return writes;
    },
  };
}

/** Applies one event of the catalog's entity topic, as its consumer would. */
export function applyCatalogEvent(state: Map<string, string>, _key: string, e: Envelope): void {
  const data = e.data as { itemId: string; label?: string; stock?: number };
  if (e.type === 'catalog.item.removed') state.delete(data.itemId);
  else state.set(data.itemId, `${data.label}/${data.stock}`);
}

export function sameCatalog(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
