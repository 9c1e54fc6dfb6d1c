import type { Migration } from './migration.js';
import { TABLE_OPTIONS } from './table-options.js';

/** Which migrations have been applied to the database, and when. */
export const createHistory: Migration = {
  version: 0,
  name: 'create sluice_migrations history',
  sql: (db) => `CREATE TABLE IF NOT EXISTS ${db}.sluice_migrations (
  version    INT          NOT NULL PRIMARY KEY,
  name       VARCHAR(255) NOT NULL,
  applied_at DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ${TABLE_OPTIONS}`,
};
