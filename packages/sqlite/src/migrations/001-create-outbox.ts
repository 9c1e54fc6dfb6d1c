import type { Migration } from './migration.js';

/**
 * Pending events. `position` is the rowid: assigned max+1 inside the (serialised) write transaction, so
 * positions grow in commit order. AUTOINCREMENT would cost a write to sqlite_sequence on every append; instead
 * the newest delivered row is kept (marked `delivered_at`) so a position is never reused.
 */
export const createOutbox: Migration = {
  version: 1,
  name: 'create sluice_outbox',
  sql: `CREATE TABLE sluice_outbox (
  position     INTEGER PRIMARY KEY,
  id         TEXT    NOT NULL,
  topic      TEXT    NOT NULL,
  key        TEXT    NOT NULL,
  type       TEXT    NOT NULL,
  value      TEXT,
  created_at INTEGER NOT NULL,
  delivered_at INTEGER
)`,
};
