import type { Migration } from './migration.js';
import { TABLE_OPTIONS } from './table-options.js';

/**
 * Pending events, deleted when the relay acknowledges them. `position` (AUTO_INCREMENT) is taken at insert, NOT
 * at commit: a transaction can commit after a later position was read, so the relay never keeps a positional
 * cursor (see `OutboxReader`). `sequence` is gap-free per source, topic and key; `key_hash` (`CRC32(key)`)
 * places the key in a relay partition.
 */
export const createOutbox: Migration = {
  version: 1,
  name: 'create sluice_outbox',
  sql: (db) => `CREATE TABLE IF NOT EXISTS ${db}.sluice_outbox (
  position   BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  id         CHAR(36)        NOT NULL,
  source     VARCHAR(191)    NOT NULL,
  topic      VARCHAR(191)    NOT NULL,
  \`key\`      VARCHAR(255)    NOT NULL,
  type       VARCHAR(255)    NOT NULL,
  sequence   BIGINT UNSIGNED NOT NULL,
  key_hash   INT UNSIGNED    NOT NULL,
  value      LONGTEXT,
  created_at DATETIME(6)     NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ${TABLE_OPTIONS}`,
};
