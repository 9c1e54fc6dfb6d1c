import type { Migration } from './migration.js';

/**
 * Per consumer group, whether its chains are tracked from their first event (`from_start` = 1: the group was
 * new when it first started, read from `earliest` and did not replay), recorded once by `startGroup`. A group
 * that applied events before this table existed gets 0: its chains' beginnings were never seen.
 */
export const createInboxGroup: Migration = {
  version: 7,
  name: 'create sluice_inbox_group',
  sql: `CREATE TABLE sluice_inbox_group (
  consumer_group TEXT    NOT NULL PRIMARY KEY,
  from_start     INTEGER NOT NULL,
  started_at     INTEGER NOT NULL
) WITHOUT ROWID`,
};
