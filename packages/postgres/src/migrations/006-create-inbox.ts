import type { Migration } from './migration.js';

/** Events each consumer group has applied, recorded in the same transaction as the handler's writes. */
export const createInbox: Migration = {
  version: 6,
  name: 'create inbox',
  sql: (schema) => `CREATE TABLE ${schema}.inbox (
  consumer_group text        NOT NULL,
  event_id       text        NOT NULL,
  applied_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (consumer_group, event_id)
)`,
};
