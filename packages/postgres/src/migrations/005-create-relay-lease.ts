import type { Migration } from './migration.js';

/** Which relay instance may publish, until when (database time). */
export const createRelayLease: Migration = {
  version: 5,
  name: 'create relay_lease',
  sql: (schema) => `CREATE TABLE ${schema}.relay_lease (
  name       text        PRIMARY KEY,
  owner      text        NOT NULL,
  expires_at timestamptz NOT NULL
)`,
};
