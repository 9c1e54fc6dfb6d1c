import type { Migration } from './migration.js';

/** The relay reads the rows of the transactions that committed since its last read: a range of `txid`. */
export const indexOutboxTxid: Migration = {
  version: 2,
  name: 'index outbox by txid',
  sql: (schema) => `CREATE INDEX outbox_txid_position ON ${schema}.outbox (txid, position)`,
};
