import type { Migration } from './migration.js';
import { TABLE_OPTIONS } from './table-options.js';

/**
 * The last `sequence` the relay acknowledged per source, topic and key (updated in the transaction that deletes
 * the acknowledged rows), so a reader releases a key's next event only after every earlier one.
 */
export const createOutboxDelivered: Migration = {
  version: 3,
  name: 'create sluice_outbox_delivered',
  sql: (db) => `CREATE TABLE IF NOT EXISTS ${db}.sluice_outbox_delivered (
  source   VARCHAR(191)    NOT NULL,
  topic    VARCHAR(191)    NOT NULL,
  \`key\`    VARCHAR(255)    NOT NULL,
  sequence BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (source, topic, \`key\`)
) ${TABLE_OPTIONS}`,
};
