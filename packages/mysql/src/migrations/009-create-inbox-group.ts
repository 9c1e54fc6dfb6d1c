import type { Migration } from './migration.js';
import { TABLE_OPTIONS } from './table-options.js';

/**
 * Per consumer group, whether its chains are tracked from their first event (the group was new when it first
 * started, read from `earliest` and did not replay), recorded once by `startGroup`. A group that applied events
 * before this table existed gets 0: its chains' beginnings were never seen.
 */
export const createInboxGroup: Migration = {
  version: 9,
  name: 'create sluice_inbox_group',
  sql: (db) => `CREATE TABLE IF NOT EXISTS ${db}.sluice_inbox_group (
  consumer_group VARCHAR(191) NOT NULL PRIMARY KEY,
  from_start     BOOLEAN      NOT NULL,
  started_at     DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ${TABLE_OPTIONS}`,
};
