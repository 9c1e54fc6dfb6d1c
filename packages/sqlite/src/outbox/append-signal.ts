import { resolve } from 'node:path';
import { notifyCommitted } from '../commit-wakeup.js';
import type { SqliteDatabase } from '../open-database.js';

const scheduled = new Set<SqliteDatabase>();
const files = new WeakMap<SqliteDatabase, string>();

/**
 * Called by `append`: wakes this process's relays waiting on the file once the caller's transaction on `db`
 * has ended. (Relays in other processes notice the commit through `PRAGMA data_version`.)
 */
export function signalAppend(db: SqliteDatabase): void {
  if (scheduled.has(db)) return;
  scheduled.add(db);
  let file = files.get(db);
  if (file === undefined) {
    file = resolve(db.name);
    files.set(db, file);
  }
  const path = file;
  // better-sqlite3's db.transaction() is synchronous, so by the first microtask it has committed or rolled
  // back. A transaction the caller drives by hand (BEGIN ... await ... COMMIT) may still be open: look again
  // shortly, and wake only once it has ended.
  const wake = () => {
    if (db.open && db.inTransaction) {
      setTimeout(wake, 1);
      return;
    }
    scheduled.delete(db);
    notifyCommitted(path);
  };
  queueMicrotask(wake);
}
