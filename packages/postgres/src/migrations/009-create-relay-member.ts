import type { Migration } from './migration.js';

/**
 * Live relay instances (heartbeat until `expires_at`, database time): the partitions are shared evenly among
 * them.
 */
export const createRelayMember: Migration = {
  version: 9,
  name: 'create relay_member',
  sql: (schema) => `CREATE TABLE ${schema}.relay_member (
  owner      text        PRIMARY KEY,
  expires_at timestamptz NOT NULL
)`,
};
