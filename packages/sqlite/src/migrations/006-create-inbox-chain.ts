import type { Migration } from './migration.js';

/**
 * Per consumer group, each chain's (source, topic and key) last applied `sequence`, written in the transaction
 * that records the event in sluice_inbox, so the consumer notices a gap or an event out of order. A new table:
 * existing inbox rows are untouched.
 */
export const createInboxChain: Migration = {
  version: 6,
  name: 'create sluice_inbox_chain',
  sql: `CREATE TABLE sluice_inbox_chain (
  consumer_group TEXT    NOT NULL,
  source         TEXT    NOT NULL,
  topic          TEXT    NOT NULL,
  key            TEXT    NOT NULL,
  last_sequence  INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  PRIMARY KEY (consumer_group, source, topic, key)
) WITHOUT ROWID`,
};
