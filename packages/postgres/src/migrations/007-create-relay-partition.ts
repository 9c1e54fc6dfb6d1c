import type { Migration } from './migration.js';

/**
 * The relay's unit of work: outbox keys are split by hash into these partitions (see `partitionOf`), and each
 * is published by the relay instance holding its lease (`owner` until `expires_at`, database time) or by
 * none. Rows are seeded by the next migration; their number is fixed while relays run.
 */
export const createRelayPartition: Migration = {
  version: 7,
  name: 'create relay_partition',
  sql: (schema) => `CREATE TABLE ${schema}.relay_partition (
  partition  integer     PRIMARY KEY,
  owner      text,
  expires_at timestamptz
)`,
};
