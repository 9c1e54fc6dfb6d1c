import type { Migration } from './migration.js';

/** The last `sequence` given per source, topic and key: gap-free because it is assigned in the appending transaction. */
export const createOutboxSequence: Migration = {
  version: 2,
  name: 'create sluice_outbox_sequence',
  sql: `CREATE TABLE sluice_outbox_sequence (
  source TEXT    NOT NULL,
  topic  TEXT    NOT NULL,
  key    TEXT    NOT NULL,
  last   INTEGER NOT NULL,
  PRIMARY KEY (source, topic, key)
) WITHOUT ROWID`,
};
