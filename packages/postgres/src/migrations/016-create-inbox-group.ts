import type { Migration } from './migration.js';

/**
 * Per consumer group, whether its chains are tracked from their first event (the group was new when it first
 * started, read from `earliest` and did not replay), recorded once by `startGroup`. A group that applied events
 * before this table existed gets false: its chains' beginnings were never seen.
 */
export const createInboxGroup: Migration = {
  version: 16,
  name: 'create inbox_group',
  sql: (schema) => `CREATE TABLE ${schema}.inbox_group (
  consumer_group text        PRIMARY KEY,
  from_start     boolean     NOT NULL,
  started_at     timestamptz NOT NULL DEFAULT clock_timestamp()
)`,
};
