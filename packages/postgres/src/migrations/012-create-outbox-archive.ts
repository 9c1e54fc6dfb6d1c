import type { Migration } from './migration.js';

/**
 * Delivered events kept for audit when the outbox is opened with `keepDeliveredMs` (moved here when the relay
 * acknowledges them, deleted in batches once older than that). Empty otherwise.
 */
export const createOutboxArchive: Migration = {
  version: 12,
  name: 'create outbox_archive',
  sql: (schema) => `CREATE TABLE ${schema}.outbox_archive (
  position     bigint      PRIMARY KEY,
  id           uuid        NOT NULL,
  source       text        NOT NULL,
  topic        text        NOT NULL,
  key          text        NOT NULL,
  type         text        NOT NULL,
  sequence     bigint      NOT NULL,
  value        text,
  created_at   timestamptz NOT NULL,
  delivered_at timestamptz NOT NULL DEFAULT clock_timestamp()
)`,
};
