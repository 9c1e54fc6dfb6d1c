import type { SqliteDatabase } from '../open-database.js';

/**
 * Wakes relays waiting on a database file when a row is appended in this process, and notices appends from
 * other processes by watching `PRAGMA data_version` (which changes when another connection commits).
 */
const waiters = new Map<string, Set<() => void>>();
const scheduled = new Set<SqliteDatabase>();

/** Called by `append`: wakes this file's waiters once the caller's transaction on `db` has ended. */
export function signalAppend(db: SqliteDatabase): void {
  if (scheduled.has(db)) return;
  scheduled.add(db);
  // better-sqlite3's db.transaction() is synchronous, so by the first microtask it has committed or rolled
  // back. A transaction the caller drives by hand (BEGIN ... await ... COMMIT) may still be open: look again
  // shortly, and wake only once it has ended.
  const wake = () => {
    if (db.open && db.inTransaction) {
      setTimeout(wake, 1);
      return;
    }
    scheduled.delete(db);
    const set = waiters.get(db.name);
    if (!set) return;
    for (const w of [...set]) w();
  };
  queueMicrotask(wake);
}

/**
 * Waits for an in-process append signal, a commit by another connection after `sinceVersion` was read, the
 * timeout, or abort.
 */
export function waitForCommit(
  db: SqliteDatabase,
  dataVersion: () => number,
  sinceVersion: number,
  pollIntervalMs: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  if (signal?.aborted || dataVersion() !== sinceVersion) return Promise.resolve();
  const file = db.name;
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
      if (dataVersion() !== sinceVersion) done();
    }, pollIntervalMs);
    signal?.addEventListener('abort', done, { once: true });
  });
}
