import type { Migration } from './migration.js';
import { TABLE_OPTIONS } from './table-options.js';

/**
 * The relay's unit of work: outbox keys are split by `key_hash` into these partitions, and each is published by
 * the relay instance holding its lease (`owner` until `expires_at`, database time) or by none. Seeded by the
 * next migration; their number is fixed while relays run.
 */
export const createRelayPartition: Migration = {
  version: 5,
  name: 'create sluice_relay_partition',
  sql: (db) => `CREATE TABLE IF NOT EXISTS ${db}.sluice_relay_partition (
  \`partition\` INT          NOT NULL PRIMARY KEY,
  owner       VARCHAR(191),
  expires_at  DATETIME(3)
) ${TABLE_OPTIONS}`,
};
