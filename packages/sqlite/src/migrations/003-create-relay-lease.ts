import type { Migration } from './migration.js';

/** Which relay instance may publish, until when. */
export const createRelayLease: Migration = {
  version: 3,
  name: 'create sluice_relay_lease',
  sql: `CREATE TABLE sluice_relay_lease (
  name       TEXT    PRIMARY KEY,
  owner      TEXT    NOT NULL,
  expires_at INTEGER NOT NULL
)`,
};
