import type { Migration } from './migration.js';

/**
 * Per consumer group, each chain's (source, topic and key) last applied `sequence`, written in the transaction
 * that records the event in the inbox, so the consumer notices a gap or an event out of order. A new table:
 * existing inbox rows are untouched.
 */
export const createInboxChain: Migration = {
  version: 15,
  name: 'create inbox_chain',
  sql: (schema) => `CREATE TABLE ${schema}.inbox_chain (
  consumer_group text        NOT NULL,
  source         text        NOT NULL,
  topic          text        NOT NULL,
  key            text        NOT NULL,
  last_sequence  bigint      NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (consumer_group, source, topic, key)
)`,
};
