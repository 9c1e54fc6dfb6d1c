import type { Migration } from './migration.js';

/** How many key-hash partitions the relays split the outbox into: the most relay instances that help. */
export const RELAY_PARTITIONS = 16;

export const seedRelayPartition: Migration = {
  version: 6,
  name: `seed ${RELAY_PARTITIONS} relay partitions`,
  sql: (db) =>
    `INSERT IGNORE INTO ${db}.sluice_relay_partition (\`partition\`) VALUES ${Array.from(
      { length: RELAY_PARTITIONS },
      (_, i) => `(${i})`,
    ).join(', ')}`,
};
