import type { ConsumedRecord, OutgoingRecord } from '@sluice/core';
import type { RdKafka } from './kafka-client.js';
import type { KafkaTopic } from './kafka-topics.js';

/** The Kafka header carrying `OutgoingRecord.id`; consumers never see it among `headers`. */
export const ID_HEADER = 'sluice.id';

/** The Kafka headers of a record: its id, then its own headers. */
export function headersOf(record: OutgoingRecord): RdKafka.MessageHeader[] {
  const out: RdKafka.MessageHeader[] = [{ [ID_HEADER]: record.id }];
  for (const [key, value] of Object.entries(record.headers ?? {})) out.push({ [key]: value });
  return out;
}

/** The bytes a record takes on the wire, as checked against `maxPayloadBytes`. */
export function sizeOf(record: OutgoingRecord): number {
  let size = Buffer.byteLength(record.key) + (record.value === null ? 0 : Buffer.byteLength(record.value));
  size += Buffer.byteLength(ID_HEADER) + Buffer.byteLength(record.id);
  for (const [key, value] of Object.entries(record.headers ?? {})) {
    size += Buffer.byteLength(key) + Buffer.byteLength(value);
  }
  return size;
}

/** A fetched Kafka message as a {@link ConsumedRecord} of `topic`. */
export function consumedOf(message: RdKafka.Message, topic: KafkaTopic): ConsumedRecord {
  const headers: Record<string, string> = {};
  for (const header of message.headers ?? []) {
    for (const [key, value] of Object.entries(header)) {
      if (key !== ID_HEADER) headers[key] = Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
    }
  }
  const key = message.key;
  return {
    topic: topic.name,
    partition: message.partition,
    offset: String(message.offset),
    key: key === undefined || key === null ? '' : Buffer.isBuffer(key) ? key.toString('utf8') : String(key),
    value: message.value === null ? null : message.value.toString('utf8'),
    headers,
    timestamp: message.timestamp ?? 0,
  };
}

/**
 * What may be delivered of records fetched together: records of `message` topics older than the retention are
 * dropped (the broker deletes by segment, later), and of an `entity` topic only the latest record of each key
 * is kept (compaction is eventual; the later offset's commit covers the skipped ones).
 */
export function deliverable(records: ConsumedRecord[], topics: ReadonlyMap<string, KafkaTopic>, now: number) {
  const fresh = records.filter((r) => {
    const retentionMs = topics.get(r.topic)?.retentionMs;
    return retentionMs === undefined || r.timestamp >= now - retentionMs;
  });
  const last = new Map<string, number>();
  fresh.forEach((r, i) => {
    if (topics.get(r.topic)?.kind === 'entity') last.set(`${r.topic}\u0000${r.key}`, i);
  });
  return fresh.filter((r, i) => {
    const at = last.get(`${r.topic}\u0000${r.key}`);
    return at === undefined || at === i;
  });
}
