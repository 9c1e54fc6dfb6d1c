import type { Migration } from './migration.js';
import { TABLE_OPTIONS } from './table-options.js';

/**
 * The last `sequence` given per source, topic and key. Gap-free: it is incremented in the appending
 * transaction, so a rollback takes the number back, and appends of one key queue on its row lock (so they
 * also commit in sequence order).
 */
export const createOutboxSequence: Migration = {
  version: 2,
  name: 'create sluice_outbox_sequence',
  sql: (db) => `CREATE TABLE IF NOT EXISTS ${db}.sluice_outbox_sequence (
  source VARCHAR(191)    NOT NULL,
  topic  VARCHAR(191)    NOT NULL,
  \`key\`  VARCHAR(255)    NOT NULL,
  last   BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (source, topic, \`key\`)
) ${TABLE_OPTIONS}`,
};
