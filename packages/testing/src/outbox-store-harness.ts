import assert from 'node:assert/strict';
import {
  defineEvent,
  defineKey,
  defineTopic,
  type EventContext,
  type EventContract,
  type EventInput,
  type OutboxStore,
} from '@sluice/core';
import type { OutboxRow } from '@sluice/core/adapter';
import { z } from 'zod';

/** What an outbox's `append` returns: every store gives at least these. */
export interface AppendedEvent {
  readonly id: string;
  readonly key: string;
  readonly sequence: number;
}

/**
 * A writer: the application's own connection to the database under test, running one transaction at a time,
 * appending through the store's `append` in that transaction.
 */
export interface OutboxWriter {
  /** Begins a transaction (a store whose database allows one writer at a time may wait here for it). */
  begin(): Promise<void>;
  /** `store.append(<this connection>, contract, data, context)` inside the open transaction. */
  append<C extends EventContract>(
    contract: C,
    data: EventInput<C>,
    context?: EventContext,
  ): Promise<AppendedEvent>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

/**
 * What the suite needs of an outbox: a fresh, migrated, empty outbox per test (schema, database or file), store
 * instances on it (each one a relay would open) and writers on connections of their own.
 */
export interface OutboxStoreHarness<S extends OutboxStore = OutboxStore> {
  /** Creates a fresh, migrated, empty outbox. */
  setup(): Promise<void>;
  /** Closes every store and writer it opened and drops what `setup` created. */
  teardown(): Promise<void>;
  /** Opens a store on the test's outbox (another relay instance on every call), appending with `source`. */
  open(source: string): Promise<S>;
  /** A writer on a connection of its own that appends through `store`. */
  writer(store: S): Promise<OutboxWriter>;
  /**
   * True when two writers' transactions can be open at once (PostgreSQL, MySQL); false when the database runs
   * one writer at a time (SQLite: `begin` waits for the other writer's commit). The cases about a lower
   * position committing after a higher one was read need overlapping writers.
   */
  readonly overlappingWriters: boolean;
  /** True for an error the database raises to abort one of two deadlocked transactions (then rolled back). */
  isDeadlock(error: unknown): boolean;
  /** How soon after a commit a relay waiting in `waitForAppend` must have read the row, in milliseconds. */
  readonly wakeWithinMs: number;
  /**
   * Optional load run beside the concurrent writers until `until` (epoch ms) that provokes the dialect's own
   * commit-order hazard (PostgreSQL: an unrelated transaction holding an old transaction id open).
   */
  hazard?(until: number): Promise<void>;
}

export const SOURCE = 'urn:sluice:conformance';
export const OTHER_SOURCE = 'urn:sluice:conformance-other';

export const ItemId = defineKey('itemId', z.string().regex(/^I-\d+$/), { description: 'a conformance item' });
export const itemsTopic = defineTopic({ name: 'conformance-items', kind: 'event', partitions: 4 });
export const notesTopic = defineTopic({ name: 'conformance-notes', kind: 'event', partitions: 2 });

export const ItemAdded = defineEvent({
  type: 'item.added',
  version: 1,
  key: ItemId,
  topic: itemsTopic,
  description: 'an item was added',
  schema: z.object({ itemId: z.string(), title: z.string().min(1), count: z.number().int().default(0) }),
});

export const ItemNoted = defineEvent({
  type: 'item.noted',
  version: 1,
  key: ItemId,
  topic: notesTopic,
  description: 'a note was made about an item',
  schema: z.object({ itemId: z.string() }),
});

/**
 * Reads everything pending from the start, following cursors, without acknowledging. Fails on a row returned
 * twice (a cursor that does not move on would otherwise loop for ever).
 */
export async function readAll(store: OutboxStore, limit = 1000): Promise<OutboxRow[]> {
  const rows: OutboxRow[] = [];
  const ids = new Set<string>();
  let cursor: string | undefined;
  for (;;) {
    const batch = await store.readPending(cursor, limit);
    if (batch.rows.length === 0) return rows;
    for (const row of batch.rows) {
      assert.ok(!ids.has(row.id), `readPending returned ${row.id} again after its cursor`);
      ids.add(row.id);
    }
    rows.push(...batch.rows);
    cursor = batch.cursor;
  }
}

/** Runs one committed transaction of `writer` appending `ItemAdded` for each key. */
export async function commitItems(writer: OutboxWriter, ...keys: string[]): Promise<AppendedEvent[]> {
  await writer.begin();
  const out: AppendedEvent[] = [];
  try {
    for (const k of keys) out.push(await writer.append(ItemAdded, { itemId: k, title: `t-${k}` }));
  } catch (error) {
    await writer.rollback();
    throw error;
  }
  await writer.commit();
  return out;
}
