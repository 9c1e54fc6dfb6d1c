import type { PartitionLag } from '@sluice/core';
import { brokerError } from './redis-errors.js';
import { oldestVisible } from './redis-fetch.js';
import type { RedisKeys } from './redis-keys.js';
import { idOfOffset, laterOffset, offsetOfId } from './redis-offsets.js';
import { hashEntries } from './redis-replies.js';
import { LAG_SCRIPT } from './redis-scripts.js';
import type { RedisClient, RedisTopic } from './redis-topics.js';

/** The most entries one LAG_SCRIPT call counts before the client asks for the next page. */
const PAGE = 10_000;

/**
 * A group's lag in each partition of a topic. Committed positions come from the group's committed hash (this
 * transport keeps groups itself, so Redis's own XINFO GROUPS `lag` does not apply). Each partition's entries
 * at or after the committed position (or the first visible one of a `message` topic, whichever is later) are
 * counted on the server with XLEN, or XRANGE in pages of {@link PAGE} when only part of the stream counts, so
 * entries deleted by XDEL (replaced entity values, swept tombstones) or trimmed by MINID are never counted.
 * `end` is the stream's last generated id + 1: the next entry gets that offset or a later one (ids follow the
 * clock), so `end` is the lowest offset a new record can get.
 */
export async function readLag(
  client: RedisClient,
  keys: RedisKeys,
  topic: RedisTopic,
  group: string,
  now: number,
): Promise<PartitionLag[]> {
  const action = `lag(${group}, ${topic.name})`;
  let committedReply: unknown;
  try {
    committedReply = await client.sendCommand(['HGETALL', keys.committed(group, topic.name)]);
  } catch (cause) {
    throw brokerError(action, cause);
  }
  const committed = new Map(hashEntries(committedReply).map(([p, next]) => [Number(p), BigInt(next)]));
  const oldest = oldestVisible(topic, now);
  return Promise.all(
    Array.from({ length: topic.partitions }, async (_, partition): Promise<PartitionLag> => {
      const position = committed.get(partition);
      const from = laterOffset(position ?? 0n, oldest);
      const stream = keys.stream(topic.name, partition);
      let start = from === 0n ? '0-0' : idOfOffset(from);
      let lag = 0;
      let last = '0-0';
      for (let page = 0; ; page++) {
        let reply: [string, number, string];
        try {
          reply = (await client.sendCommand(['EVAL', LAG_SCRIPT, '1', stream, start, String(PAGE)])) as [
            string,
            number,
            string,
          ];
        } catch (cause) {
          throw brokerError(action, cause);
        }
        if (page === 0) last = String(reply[0]);
        lag += Number(reply[1]);
        if (!reply[2]) break;
        start = `(${String(reply[2])}`;
      }
      const end = last === '0-0' ? 0n : offsetOfId(last) + 1n;
      return {
        partition,
        committed: position === undefined ? null : String(position),
        end: String(end),
        lag,
      };
    }),
  );
}
