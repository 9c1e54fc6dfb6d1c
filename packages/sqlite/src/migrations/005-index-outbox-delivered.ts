import type { Migration } from './migration.js';

/** Finds the one kept, already delivered row of the outbox without scanning; appends never touch it. */
export const indexOutboxDelivered: Migration = {
  version: 5,
  name: 'index sluice_outbox delivered rows',
  sql: 'CREATE INDEX sluice_outbox_delivered ON sluice_outbox (position) WHERE delivered_at IS NOT NULL',
};
