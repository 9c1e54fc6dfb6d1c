import type { PartitionLag } from '@sluice/core';
import type { LogStore } from './log-store.js';

/**
 * A group's lag in each partition of `topic`, read in one read transaction so the committed positions, ends
 * and counts are one snapshot of the file. Counts the visible records (not expired, not replaced or deleted)
 * at or after the committed position. Throws `SLUICE_UNKNOWN_TOPIC` for a topic the file does not have.
 */
export function readLag(store: LogStore, group: string, topic: string, now: number): PartitionLag[] {
  const meta = store.topic(topic);
  const oldest = store.oldestVisible(meta, now);
  const snapshot = store.db.transaction(() =>
    Array.from({ length: meta.partitions }, (_, partition): PartitionLag => {
      const committed = store.sql.selectCommitted.get(group, topic, partition);
      const end = store.nextOffset(topic, partition);
      const lag = store.sql.countFrom.get(topic, partition, committed ?? 0, oldest) ?? 0;
      return {
        partition,
        committed: committed === undefined ? null : String(committed),
        end: String(end),
        lag,
      };
    }),
  );
  return store.read(`lag(${group}, ${topic})`, () => snapshot.deferred());
}
