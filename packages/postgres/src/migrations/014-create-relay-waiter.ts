import type { Migration } from './migration.js';

/**
 * Relays waiting for appends, until when. `append` notifies (`NOTIFY`) only while one waits: a NOTIFY makes
 * PostgreSQL serialize the commits of every notifying transaction (a database-wide lock held through the
 * commit's WAL flush), which costs concurrent writers their group commit. A busy relay reads continuously and
 * needs no notification. Unlogged: the flags are worthless after a crash and need no WAL.
 */
export const createRelayWaiter: Migration = {
  version: 14,
  name: 'create relay_waiter',
  sql: (schema) => `CREATE UNLOGGED TABLE ${schema}.relay_waiter (
  id    text        PRIMARY KEY,
  until timestamptz NOT NULL
)`,
};
