import type { InboxStore } from '@sluice/core';

/**
 * What the inbox suite needs of an implementation, fresh for every case: a migrated inbox on an empty database
 * (a unique schema, database or file), a business write through the inbox's transaction, and a way to read
 * the writes back outside it (so the suite sees only what committed).
 */
export interface InboxStoreHarness<Tx> {
  /** A fresh inbox on an empty, migrated database. */
  open(): Promise<InboxStore<Tx>>;
  /** Another inbox on the same database, as a restarted or second consumer process would open. */
  another(): Promise<InboxStore<Tx>>;
  /** Writes `effect` through the transaction (e.g. inserts a row; the same effect twice fails). */
  write(tx: Tx, effect: string): unknown;
  /** The effects committed so far, in any order, read outside any inbox transaction. */
  effects(): Promise<string[]>;
  /**
   * True when two inboxes' transactions can be open at once (PostgreSQL, MySQL); false when the database runs
   * one writer at a time and this process would wait on itself (SQLite).
   */
  readonly concurrentTransactions: boolean;
  /** Releases what `open` and `another` created. */
  close(): Promise<void>;
}
