import type { Migration } from './migration.js';
import { TABLE_OPTIONS } from './table-options.js';

/**
 * Per consumer group, each chain's (source, topic and key) last applied `sequence`, written in the transaction
 * that records the event in sluice_inbox, so the consumer notices a gap or an event out of order. The key is
 * `chain_hash` (SHA-256 of source, topic and key, NUL-separated): the three columns and the group together are
 * longer than InnoDB's 3072-byte index limit. A new table: existing inbox rows are untouched.
 */
export const createInboxChain: Migration = {
  version: 8,
  name: 'create sluice_inbox_chain',
  sql: (db) => `CREATE TABLE IF NOT EXISTS ${db}.sluice_inbox_chain (
  consumer_group VARCHAR(191)    NOT NULL,
  chain_hash     BINARY(32)      NOT NULL,
  source         VARCHAR(191)    NOT NULL,
  topic          VARCHAR(191)    NOT NULL,
  \`key\`          VARCHAR(255)    NOT NULL,
  last_sequence  BIGINT          NOT NULL,
  updated_at     DATETIME(6)     NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (consumer_group, chain_hash)
) ${TABLE_OPTIONS}`,
};
