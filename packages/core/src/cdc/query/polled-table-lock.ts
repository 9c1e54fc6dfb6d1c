/**
 * The lock that lets one process at a time read a query-based source, held by a database session of its own
 * (PostgreSQL: a session-level advisory lock; MySQL: `GET_LOCK`), so the database releases it when the process
 * or its connection dies.
 *
 * Implementers own noticing the loss of that session (`lost()`), and releasing the lock and returning or
 * closing its connection in `release`; they do not own retrying or waiting: the source does.
 */
export interface PolledTableLock {
  /** True once the session holding the lock was lost: the database released the lock with it. */
  lost(): boolean;
  /** Releases the lock and its connection. Idempotent; never throws. */
  release(): Promise<void>;
}
