import type { Migration } from './migration.js';

export const createOutbox: Migration = {
  version: 1,
  name: 'create sluice_outbox',
  sql: `CREATE TABLE sluice_outbox (
  position   INTEGER PRIMARY KEY AUTOINCREMENT,
  id         TEXT    NOT NULL,
  topic      TEXT    NOT NULL,
  key        TEXT    NOT NULL,
  type       TEXT    NOT NULL,
  value      TEXT,
  created_at INTEGER NOT NULL
)`,
};
