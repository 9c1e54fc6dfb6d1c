import type { InboxStore } from '../inbox/inbox-store.js';
import type { OutboxStore } from '../outbox/outbox-store.js';
import type { Store, StoreMigration } from './store.js';
import type { StoreKind } from './store-config.js';

/** What a database adapter gives {@link storeOf}: its own operations, without the common bookkeeping. */
export interface StoreParts {
  readonly kind: StoreKind;
  readonly name: string;
  /** Rewords a failed connection as one to the database (the adapter's `connectionError`, with the masked URL). */
  readonly connectionError?: (error: unknown) => Error | undefined;
  pendingMigrations(): Promise<readonly StoreMigration[]>;
  migrate(): Promise<readonly StoreMigration[]>;
  createOutbox(options: { readonly source: string; readonly relay?: boolean }): Promise<OutboxStore>;
  createInbox(): Promise<InboxStore<unknown>>;
  /** Closes the adapter's connections (after every outbox and inbox was closed). */
  close(): Promise<void>;
}

/**
 * A {@link Store} from an adapter's parts: every operation's connection failure reworded by `connectionError`,
 * migrations copied as plain `{ version, name, sql }`, the outboxes and inboxes it created closed with it, and
 * `close` idempotent.
 */
export function storeOf(parts: StoreParts): Store {
  const opened: { close(): Promise<void> }[] = [];
  let closed: Promise<void> | undefined;
  const naming = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw parts.connectionError?.(error) ?? error;
    }
  };
  const steps = (list: readonly StoreMigration[]): StoreMigration[] =>
    list.map((m) => ({ version: m.version, name: m.name, sql: m.sql }));
  const track = <T extends { close(): Promise<void> }>(resource: T): T => {
    opened.push(resource);
    return resource;
  };
  return {
    kind: parts.kind,
    name: parts.name,
    pendingMigrations: () => naming(async () => steps(await parts.pendingMigrations())),
    migrate: () => naming(async () => steps(await parts.migrate())),
    createOutbox: (options) => naming(async () => track(await parts.createOutbox(options))),
    createInbox: () => naming(async () => track(await parts.createInbox())),
    close() {
      closed ??= (async () => {
        for (const resource of opened) await resource.close().catch(() => undefined);
        await parts.close();
      })();
      return closed;
    },
  };
}
