import type { Migration } from './migration.js';

/**
 * The outbox is a queue: every row is inserted, then deleted within seconds. PostgreSQL's default autovacuum
 * trigger (20% of the table dead) lets a busy queue bloat; vacuum it after a fixed number of dead rows
 * instead, without cost-based sleeping (the table stays small, so each run is short).
 */
export const tuneOutboxAutovacuum: Migration = {
  version: 11,
  name: 'tune outbox autovacuum for a queue',
  sql: (schema) => `ALTER TABLE ${schema}.outbox SET (
  autovacuum_vacuum_scale_factor = 0,
  autovacuum_vacuum_threshold = 10000,
  autovacuum_vacuum_cost_delay = 0,
  autovacuum_analyze_scale_factor = 0,
  autovacuum_analyze_threshold = 10000
)`,
};
