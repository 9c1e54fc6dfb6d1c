import { brokerError } from './redis-errors.js';
import type { RedisKeys } from './redis-keys.js';
import { SWEEP_TOMBSTONES_SCRIPT } from './redis-scripts.js';
import type { RedisClient, RedisTopics } from './redis-topics.js';

/** What one sweep deleted. */
export interface SweepResult {
  /** Entries of message topics older than their retention. */
  readonly expired: number;
  /** Tombstones of entity topics older than the tombstone retention. */
  readonly tombstones: number;
}

/**
 * Deletes what the transport no longer keeps: entries of `message` topics older than their retention (XTRIM
 * MINID; publishes trim too, this covers topics nobody publishes to) and tombstones of `entity` topics older
 * than `tombstoneRetentionMs`. Reads never return expired entries meanwhile. Safe to run from several
 * processes at once.
 */
export async function sweepTopics(
  client: RedisClient,
  keys: RedisKeys,
  topics: RedisTopics,
  tombstoneRetentionMs: number,
  now: number,
): Promise<SweepResult> {
  let expired = 0;
  let tombstones = 0;
  for (const topic of await topics.all()) {
    if (topic.kind === 'event') continue;
    try {
      const pipeline = client.multi();
      for (let p = 0; p < topic.partitions; p++) {
        if (topic.kind === 'message') {
          pipeline.addCommand([
            'XTRIM',
            keys.stream(topic.name, p),
            'MINID',
            String(Math.max(0, now - topic.retentionMs!)),
          ]);
        } else {
          pipeline.addCommand([
            'EVAL',
            SWEEP_TOMBSTONES_SCRIPT,
            '3',
            keys.stream(topic.name, p),
            keys.latest(topic.name, p),
            keys.tombstones(topic.name, p),
            String(now - tombstoneRetentionMs),
          ]);
        }
      }
      const counts = (await pipeline.execAsPipeline()) as unknown[];
      const sum = counts.reduce<number>((n, c) => n + Number(c), 0);
      if (topic.kind === 'message') expired += sum;
      else tombstones += sum;
    } catch (cause) {
      throw brokerError(`sweeping ${topic.name}`, cause);
    }
  }
  return { expired, tombstones };
}
