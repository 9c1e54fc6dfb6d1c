import type { Migration } from './migration.js';

/** Housekeeping deletes archived events oldest first. */
export const indexOutboxArchive: Migration = {
  version: 13,
  name: 'index outbox_archive by delivery time',
  sql: (schema) => `CREATE INDEX outbox_archive_delivered_at ON ${schema}.outbox_archive (delivered_at)`,
};
