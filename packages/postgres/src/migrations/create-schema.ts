import type { Migration } from './migration.js';

/** The schema holding every Sluice table; created before the history table, so not itself versioned. */
export const createSchema: Migration = {
  version: 0,
  name: 'create schema',
  sql: (schema) => `CREATE SCHEMA IF NOT EXISTS ${schema}`,
};
