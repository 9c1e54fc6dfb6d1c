import type { SqliteDatabase } from '../open-database.js';

/**
 * Wakes relays waiting on a database file when a row is appended in this process, and notices appends from
 * other processes by watching `PRAGMA data_version` (which changes when another connection commits).
 */
const waiters = new Map<string, Set<() => void>>();
const scheduled = new Set<string>();

/** Called by `append`: wakes this file's waiters once the caller's synchronous transaction has committed. */
export function signalAppend(file: string): void {
  if (scheduled.has(file)) return;
  scheduled.add(file);
  // better-sqlite3 transactions are synchronous: by the time a microtask runs, the caller committed or rolled back.
  queueMicrotask(() => {
    scheduled.delete(file);
    const set = waiters.get(file);
    if (!set) return;
    for (const wake of [...set]) wake();
  });
}

/** Waits for an in-process append signal, a commit by another connection, the timeout, or abort. */
export function waitForCommit(
  db: SqliteDatabase,
  pollIntervalMs: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  const file = db.name;
  const version = db.prepare('PRAGMA data_version').pluck();
  const start = version.get();
  return new Promise((resolve) => {
    let set = waiters.get(file);
    if (!set) {
      set = new Set();
      waiters.set(file, set);
    }
    const done = () => {
      clearTimeout(deadline);
      clearInterval(poll);
      signal?.removeEventListener('abort', done);
      set.delete(done);
      resolve();
    };
    set.add(done);
    const deadline = setTimeout(done, timeoutMs);
    const poll = setInterval(() => {
      if (version.get() !== start) done();
    }, pollIntervalMs);
    signal?.addEventListener('abort', done, { once: true });
  });
}
