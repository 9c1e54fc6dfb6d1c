import type { Migration } from './migration.js';

/** Which migrations have been applied to the schema, and when. */
export const createHistory: Migration = {
  version: 0,
  name: 'create migrations history',
  sql: (schema) => `CREATE TABLE IF NOT EXISTS ${schema}.migrations (
  version    integer     PRIMARY KEY,
  name       text        NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT clock_timestamp()
)`,
};
