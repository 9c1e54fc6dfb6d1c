import type { Migration } from './migration.js';

/** Events each consumer group has applied, recorded in the same transaction as the handler's writes. */
export const createInbox: Migration = {
  version: 4,
  name: 'create sluice_inbox',
  sql: `CREATE TABLE sluice_inbox (
  consumer_group TEXT    NOT NULL,
  event_id       TEXT    NOT NULL,
  applied_at     INTEGER NOT NULL,
  PRIMARY KEY (consumer_group, event_id)
) WITHOUT ROWID`,
};
