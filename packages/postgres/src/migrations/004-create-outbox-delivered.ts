import type { Migration } from './migration.js';

/**
 * The last `sequence` the relay acknowledged per source, topic and key (updated when acknowledged rows are
 * deleted), so a relay publishes a key's next event only once every earlier one is delivered.
 */
export const createOutboxDelivered: Migration = {
  version: 4,
  name: 'create outbox_delivered',
  sql: (schema) => `CREATE TABLE ${schema}.outbox_delivered (
  source   text   NOT NULL,
  topic    text   NOT NULL,
  key      text   NOT NULL,
  sequence bigint NOT NULL,
  PRIMARY KEY (source, topic, key)
)`,
};
