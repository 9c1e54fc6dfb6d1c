import { type OutgoingRecord, PayloadTooLargeError, type PublishAck, TransportError } from '@sluice/core';
import { partitionFor } from '@sluice/core/adapter';
import { brokerError, REDIS_NAME } from './redis-errors.js';
import type { RedisKeys } from './redis-keys.js';
import { offsetOfId } from './redis-offsets.js';
import { PUBLISH_SCRIPT } from './redis-scripts.js';
import type { RedisClient, RedisTopic, RedisTopics } from './redis-topics.js';

/**
 * Appends `records` with one script call (one round trip, atomic on the server) and returns their acks in
 * input order. Everything is checked first (topics exist, payload sizes), so a refused batch writes nothing.
 * Partitions come from core's `partitionFor`, so a key lands in the same partition on every transport.
 */
export async function publishRecords(
  client: RedisClient,
  keys: RedisKeys,
  topics: RedisTopics,
  records: readonly OutgoingRecord[],
  maxPayloadBytes: number,
): Promise<PublishAck[]> {
  const count = records.length;
  if (count === 0) return [];
  const metas = new Array<RedisTopic>(count);
  const headers = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const record = records[i]!;
    metas[i] = await topics.get(record.topic);
    headers[i] = checkRecord(record, maxPayloadBytes);
  }
  const now = Date.now();
  const keyIndex = new Map<string, number>();
  const indexOf = (key: string) => {
    let index = keyIndex.get(key);
    if (index === undefined) {
      index = keyIndex.size + 1;
      keyIndex.set(key, index);
    }
    return String(index);
  };
  // An entity partition's latest-hash and tombstones set take two consecutive KEYS slots.
  const entityKeys = (topic: string, partition: number) => {
    const latest = keys.latest(topic, partition);
    const known = keyIndex.get(latest);
    if (known !== undefined) return String(known);
    const index = indexOf(latest);
    indexOf(keys.tombstones(topic, partition));
    return index;
  };
  const args: string[] = [String(count)];
  const partitions = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const record = records[i]!;
    const topic = metas[i]!;
    const partition = partitionFor(record.key, topic.partitions);
    partitions[i] = partition;
    const aux =
      topic.kind === 'entity'
        ? entityKeys(topic.name, partition)
        : topic.kind === 'message'
          ? String(Math.max(0, now - topic.retentionMs!))
          : '';
    args.push(
      indexOf(keys.stream(topic.name, partition)),
      topic.kind,
      aux,
      record.key,
      record.value === null ? '0' : '1',
      record.value ?? '',
      headers[i]!,
    );
  }
  let ids: string[];
  try {
    ids = (await client.sendCommand([
      'EVAL',
      PUBLISH_SCRIPT,
      String(keyIndex.size),
      ...keyIndex.keys(),
      ...args,
    ])) as string[];
  } catch (cause) {
    throw brokerError(`publish of ${count} record(s)`, cause);
  }
  return ids.map((id, i) => ({
    topic: metas[i]!.name,
    partition: partitions[i]!,
    offset: String(offsetOfId(id)),
  }));
}

/** Checks one record's shape and size; returns its headers as JSON (`''` when it has none). */
function checkRecord(record: OutgoingRecord, maxBytes: number): string {
  const { key, value } = record;
  if (typeof key !== 'string') throw invalidRecord(record, 'key must be a string');
  if (value !== null && typeof value !== 'string') {
    throw invalidRecord(record, 'value must be a string (the encoded envelope) or null (a tombstone)');
  }
  let json = '';
  if (record.headers != null && Object.keys(record.headers).length > 0) json = JSON.stringify(record.headers);
  const chars = key.length + (value === null ? 0 : value.length) + json.length;
  if (chars * 3 > maxBytes) {
    const bytes =
      Buffer.byteLength(key) + (value === null ? 0 : Buffer.byteLength(value)) + Buffer.byteLength(json);
    if (bytes > maxBytes) throw new PayloadTooLargeError(REDIS_NAME, bytes, maxBytes);
  }
  return json;
}

function invalidRecord(record: OutgoingRecord, reason: string): TransportError {
  return new TransportError(
    'SLUICE_INVALID_RECORD',
    `${REDIS_NAME}: record ${JSON.stringify(record.id)} for topic ${record.topic}: ${reason}; nothing was written`,
  );
}
