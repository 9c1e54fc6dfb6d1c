import type { Migration } from './migration.js';

/**
 * The last `sequence` given per source, topic and key. Gap-free: it is incremented in the appending
 * transaction, so a rollback takes the number back, and appends of one key queue on its row lock.
 */
export const createOutboxSequence: Migration = {
  version: 3,
  name: 'create outbox_sequence',
  sql: (schema) => `CREATE TABLE ${schema}.outbox_sequence (
  source text   NOT NULL,
  topic  text   NOT NULL,
  key    text   NOT NULL,
  last   bigint NOT NULL,
  PRIMARY KEY (source, topic, key)
)`,
};
