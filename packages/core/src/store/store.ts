import type { InboxStore } from '../inbox/inbox-store.js';
import type { OutboxStore } from '../outbox/outbox-store.js';
import type { StoreKind } from './store-config.js';

/** A schema migration, as `pendingMigrations()` lists it and `migrate()` applies it. */
export interface StoreMigration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * A database holding Sluice's tables, opened from a URL or a {@link StoreConfig} by `createStore`.
 *
 * Implementers (each database adapter's `create*Store`) own the connections they open: they open them lazily
 * or at creation, close them in `close()`, name the database in every message with its password masked,
 * report a failed connection as such (`SLUICE_DATABASE_UNAVAILABLE` or `SLUICE_DATABASE_AUTH_FAILED`, naming
 * the masked URL), and never create anything in `pendingMigrations()`.
 */
export interface Store {
  readonly kind: StoreKind;
  /** The database in messages: the file path, or the URL without credentials and where the tables live. */
  readonly name: string;
  /** The migrations `migrate()` would apply; changes nothing (a SQLite file that does not exist stays so). */
  pendingMigrations(): Promise<readonly StoreMigration[]>;
  /** Applies the pending migrations, creating the tables (and a SQLite file) as needed; returns them. */
  migrate(): Promise<readonly StoreMigration[]>;
  /**
   * The outbox of `source` in this database. Throws `SLUICE_MIGRATION_REQUIRED` when the tables are missing or
   * older than this Sluice. `relay: true` opens it for a relay (on SQLite: writes that need not wait for the
   * disk, since a lost delete or lease renewal only causes a re-send). Closed with the store.
   */
  createOutbox(options: { readonly source: string; readonly relay?: boolean }): Promise<OutboxStore>;
  /**
   * The inbox in this database, for a consumer whose handlers write here (`tx` as the adapter gives it: a
   * better-sqlite3 connection on SQLite, a `SqlExecutor` on PostgreSQL and MySQL). Throws
   * `SLUICE_MIGRATION_REQUIRED` when the tables are missing. Closed with the store.
   */
  createInbox(): Promise<InboxStore<unknown>>;
  /** Closes every outbox and inbox created from it and the connections. Idempotent. */
  close(): Promise<void>;
}
