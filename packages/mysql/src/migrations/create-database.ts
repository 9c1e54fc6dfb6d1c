import type { Migration } from './migration.js';

/** The database named by the `database` option; created before the history table, so not itself versioned. */
export const createDatabase: Migration = {
  version: 0,
  name: 'create database',
  sql: (db) => `CREATE DATABASE IF NOT EXISTS ${db} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`,
};
