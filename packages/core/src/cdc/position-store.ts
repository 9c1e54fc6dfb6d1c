/**
 * Durable storage for the acknowledged position of a change source that has nowhere of its own to keep it: a
 * MySQL/MariaDB binlog reader (which, unlike a PostgreSQL slot, the server does not remember) or a query-based
 * poller. One store may hold the positions of several sources, by name.
 *
 * Implementers own:
 * - durability: when `save` resolves, the position survives a crash of this process and of the machine
 *   (fsync, or a committed transaction);
 * - atomicity: `load` returns either the previous or the new position, never a torn mix of both;
 * - nothing else: the source decides what the opaque string means, when to save and what `undefined` (never
 *   saved) implies, e.g. an initial snapshot.
 */
export interface PositionStore {
  /** The position last saved for `name`, or undefined if none ever was. */
  load(name: string): Promise<string | undefined>;
  /** Durably replaces the position of `name`. */
  save(name: string, position: string): Promise<void>;
  /** Releases the store's resources (connections, handles). Idempotent. */
  close(): Promise<void>;
}
