import type { Migration } from './migration.js';
import { TABLE_OPTIONS } from './table-options.js';

/** Events each consumer group has applied, recorded in the same transaction as the handler's writes. */
export const createInbox: Migration = {
  version: 4,
  name: 'create sluice_inbox',
  sql: (db) => `CREATE TABLE IF NOT EXISTS ${db}.sluice_inbox (
  consumer_group VARCHAR(191) NOT NULL,
  event_id       VARCHAR(191) NOT NULL,
  applied_at     DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (consumer_group, event_id)
) ${TABLE_OPTIONS}`,
};
