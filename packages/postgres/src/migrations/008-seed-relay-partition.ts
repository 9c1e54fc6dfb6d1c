import type { Migration } from './migration.js';

/** How many key-hash partitions the relays split the outbox into: the most relay instances that help. */
export const RELAY_PARTITIONS = 16;

export const seedRelayPartition: Migration = {
  version: 8,
  name: `seed ${RELAY_PARTITIONS} relay partitions`,
  sql: (schema) =>
    `INSERT INTO ${schema}.relay_partition (partition) SELECT generate_series(0, ${RELAY_PARTITIONS - 1})`,
};
