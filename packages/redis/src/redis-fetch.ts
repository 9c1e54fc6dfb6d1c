import type { ConsumedRecord, SeekTarget } from '@sluice/core';
import { brokerError } from './redis-errors.js';
import type { RedisKeys } from './redis-keys.js';
import {
  idOfOffset,
  laterOffset,
  offsetOfId,
  offsetOfTime,
  parseOffset,
  timeOfOffset,
} from './redis-offsets.js';
import type { RedisClient, RedisTopic } from './redis-topics.js';

/** One partition to read from `next` (the offset of the next record wanted). */
export interface FetchRequest {
  readonly topic: RedisTopic;
  readonly partition: number;
  readonly next: bigint;
}

/** What a fetch found in one partition: records in offset order, and the next offset after them. */
export interface FetchResult {
  readonly records: ConsumedRecord[];
  readonly next: bigint;
}

type RawEntry = [string, string[]];

/** The first offset still visible in `topic` at `now` (records of message topics expire). */
export function oldestVisible(topic: RedisTopic, now: number): bigint {
  return topic.retentionMs === null ? 0n : offsetOfTime(now - topic.retentionMs);
}

/**
 * Reads up to `limit` entries of each requested partition with one pipelined XRANGE each (one round trip),
 * skipping expired records of message topics.
 */
export async function fetchPartitions(
  client: RedisClient,
  keys: RedisKeys,
  requests: readonly FetchRequest[],
  limit: number,
  now: number,
): Promise<FetchResult[]> {
  if (requests.length === 0) return [];
  const starts = requests.map((r) => {
    const oldest = oldestVisible(r.topic, now);
    return laterOffset(r.next, oldest);
  });
  let replies: unknown[];
  try {
    const pipeline = client.multi();
    requests.forEach((r, i) => {
      pipeline.addCommand([
        'XRANGE',
        keys.stream(r.topic.name, r.partition),
        idOfOffset(starts[i]!),
        '+',
        'COUNT',
        String(limit),
      ]);
    });
    replies = (await pipeline.execAsPipeline()) as unknown[];
  } catch (cause) {
    throw brokerError('reading records', cause);
  }
  return requests.map((r, i) => {
    const entries = (replies[i] ?? []) as RawEntry[];
    const records: ConsumedRecord[] = [];
    let next = starts[i]!;
    for (const entry of entries) {
      const record = toRecord(r.topic.name, r.partition, entry);
      records.push(record);
      next = BigInt(record.offset) + 1n;
    }
    return { records, next };
  });
}

/** The offset a partition's next appended record will be at or after. */
export async function endOffsets(
  client: RedisClient,
  keys: RedisKeys,
  topic: RedisTopic,
  partitions: readonly number[],
): Promise<bigint[]> {
  if (partitions.length === 0) return [];
  let replies: unknown[];
  try {
    const pipeline = client.multi();
    for (const p of partitions)
      pipeline.addCommand(['XREVRANGE', keys.stream(topic.name, p), '+', '-', 'COUNT', '1']);
    replies = (await pipeline.execAsPipeline()) as unknown[];
  } catch (cause) {
    throw brokerError(`reading the end of ${topic.name}`, cause);
  }
  return replies.map((reply) => {
    const last = (reply as RawEntry[] | null)?.[0];
    return last === undefined ? 0n : offsetOfId(last[0]) + 1n;
  });
}

/** The partitions `target` applies to. */
export function partitionsOf(topic: RedisTopic, target: SeekTarget): number[] {
  if (target.to === 'offset') {
    if (!Number.isInteger(target.partition) || target.partition < 0 || target.partition >= topic.partitions)
      return [];
    return [target.partition];
  }
  return Array.from({ length: topic.partitions }, (_, p) => p);
}

/** The next offsets `target` means for `partitions` of `topic`. */
export async function positionsOf(
  client: RedisClient,
  keys: RedisKeys,
  topic: RedisTopic,
  partitions: readonly number[],
  target: SeekTarget,
): Promise<bigint[]> {
  switch (target.to) {
    case 'earliest':
      return partitions.map(() => 0n);
    case 'latest':
      return endOffsets(client, keys, topic, partitions);
    case 'time':
      return partitions.map(() => offsetOfTime(target.time));
    case 'offset': {
      const offset = parseOffset(target.offset);
      return partitions.map(() => offset);
    }
  }
}

/** Decodes one stream entry. */
export function toRecord(topic: string, partition: number, [id, fields]: RawEntry): ConsumedRecord {
  let key = '';
  let value: string | null = null;
  let headers: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i];
    const field = fields[i + 1]!;
    if (name === 'k') key = field;
    else if (name === 'v') value = field;
    else if (name === 'h') headers = JSON.parse(field) as Record<string, string>;
  }
  const offset = offsetOfId(id);
  return { topic, partition, offset: String(offset), key, value, headers, timestamp: timeOfOffset(offset) };
}
