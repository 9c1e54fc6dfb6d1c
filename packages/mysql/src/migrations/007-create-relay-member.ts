import type { Migration } from './migration.js';
import { TABLE_OPTIONS } from './table-options.js';

/** Live relay instances (heartbeat until `expires_at`, database time): the partitions are shared among them. */
export const createRelayMember: Migration = {
  version: 7,
  name: 'create sluice_relay_member',
  sql: (db) => `CREATE TABLE IF NOT EXISTS ${db}.sluice_relay_member (
  owner      VARCHAR(191) NOT NULL PRIMARY KEY,
  expires_at DATETIME(3)  NOT NULL
) ${TABLE_OPTIONS}`,
};
