import type { Migration } from './migration.js';

/**
 * Pending events. `position` orders rows of one transaction and, per key, matches `sequence` order; it is NOT
 * commit order (a transaction can commit after a later position was read), so the relay reads by `txid`:
 * the appending transaction's id, compared with snapshots to tell which transactions have committed since
 * the last read. `source` and `sequence` let the relay check that it publishes each key's events gap-free.
 */
export const createOutbox: Migration = {
  version: 1,
  name: 'create outbox',
  sql: (schema) => `CREATE TABLE ${schema}.outbox (
  position   bigserial   PRIMARY KEY,
  txid       xid8        NOT NULL DEFAULT pg_current_xact_id(),
  id         uuid        NOT NULL,
  source     text        NOT NULL,
  topic      text        NOT NULL,
  key        text        NOT NULL,
  type       text        NOT NULL,
  sequence   bigint      NOT NULL,
  value      text,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
)`,
};
