import type { Migration } from './migration.js';

/** The single relay lease of version 5, replaced by the partition leases of versions 7 to 9. */
export const dropRelayLease: Migration = {
  version: 10,
  name: 'drop relay_lease',
  sql: (schema) => `DROP TABLE ${schema}.relay_lease`,
};
