import type { LogStore } from './log-store.js';

/** How long past its session timeout a dead member's row is kept (it rejoins if it comes back). */
const DEAD_MEMBER_GRACE_MS = 60 * 60 * 1000;

/** What one sweep deleted. */
export interface SweepResult {
  readonly expiredRecords: number;
  readonly tombstones: number;
  readonly members: number;
}

/**
 * Deletes what the log no longer keeps: records of `message` topics older than their retention, tombstones of
 * `entity` topics older than `tombstoneRetentionMs`, and rows of members dead for an hour. One short write
 * transaction per partition, so publishers are not held up for long. Reads never return expired records, so
 * the sweep only frees space.
 */
export function sweepLog(store: LogStore, now: number): SweepResult {
  let expiredRecords = 0;
  for (const topic of store.reloadTopics()) {
    if (topic.kind !== 'message') continue;
    const oldest = store.oldestVisible(topic, now);
    for (let p = 0; p < topic.partitions; p++) {
      expiredRecords += store.write(`sweeping ${topic.name}`, () => {
        const first = store.sql.firstOffsetFrom.get(topic.name, p, oldest) ?? store.nextOffset(topic.name, p);
        return store.sql.deleteRecordsBefore.run(topic.name, p, first).changes;
      });
    }
  }
  const tombstones = store.write('sweeping tombstones', () => {
    const expired = store.sql.selectExpiredTombstones.all(now - store.options.tombstoneRetentionMs);
    for (const t of expired) {
      store.sql.deleteRecord.run(t.topic, t.partition, t.offset);
      store.sql.deleteEntityKey.run(t.topic, t.partition, t.key);
    }
    return expired.length;
  });
  const members = store.write('sweeping members', () =>
    store.sql.deleteExpiredMembers.run(now - DEAD_MEMBER_GRACE_MS),
  ).changes;
  return { expiredRecords, tombstones, members };
}
