import { TOMBSTONE_HEADER } from './nats-codec.js';
import { type CursorContext, NatsCursor } from './nats-cursor.js';
import type { NatsNames } from './nats-names.js';
import type { NatsTopic } from './nats-topics.js';

/** What one sweep removed. */
export interface SweepResult {
  readonly tombstones: number;
}

/**
 * Removes tombstones older than `retentionMs` from entity topics: reads the last record of every key subject
 * (headers only) and purges a key's subject up to and including its tombstone's sequence, so a value written
 * for the key meanwhile is never purged. Message topics need no sweep (`max_age` expires them).
 */
export async function sweepTombstones(
  ctx: CursorContext,
  names: NatsNames,
  topics: readonly NatsTopic[],
  retentionMs: number,
  now: number,
): Promise<SweepResult> {
  let tombstones = 0;
  for (const topic of topics) {
    if (!topic.entity) continue;
    const cursor = await NatsCursor.open(ctx, topic.stream, names.topicFilter(topic.name), {
      lastPerSubject: true,
      headersOnly: true,
    });
    try {
      for (;;) {
        const batch = await cursor.pull(256);
        for (const m of batch) {
          if (m.headers?.get(TOMBSTONE_HEADER) !== '1' || m.timestamp > now - retentionMs) continue;
          await ctx.jsm.streams.purge(topic.stream, { filter: m.subject, seq: m.sequence + 1 });
          tombstones++;
        }
        if (batch.length < 256 || batch.at(-1)!.pending === 0) break;
      }
    } finally {
      cursor.close();
    }
  }
  return { tombstones };
}
