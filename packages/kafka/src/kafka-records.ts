import { type ConsumedRecord, type OutgoingRecord, STRUCTURED_CONTENT_TYPE } from '@sluice/core';
import type { RdKafka } from './kafka-client.js';
import type { KafkaTopic } from './kafka-topics.js';

/** The Kafka header carrying `OutgoingRecord.id`; consumers never see it among `headers`. */
export const ID_HEADER = 'sluice.id';

/** The Kafka binding's `content-type` header, named as the binding (and the cloudevents SDK) spells it. */
export const CONTENT_TYPE_HEADER = 'content-type';

/**
 * The Kafka headers of a record: its id, the CloudEvents structured-mode `content-type` (the value is the whole
 * event in JSON, the key its `partitionkey`, as the Kafka protocol binding describes), then its own headers. A
 * record that brings its own `content-type` (binary mode: `ce_*` headers and `application/json`) keeps it; a
 * tombstone has no event and gets none.
 */
export function headersOf(record: OutgoingRecord): RdKafka.MessageHeader[] {
  const out: RdKafka.MessageHeader[] = [{ [ID_HEADER]: record.id }];
  if (structured(record)) out.push({ [CONTENT_TYPE_HEADER]: STRUCTURED_CONTENT_TYPE });
  for (const [key, value] of Object.entries(record.headers ?? {})) out.push({ [key]: value });
  return out;
}

/** Whether the record gets the structured-mode `content-type` header. */
function structured(record: OutgoingRecord): boolean {
  if (record.value === null) return false;
  for (const key of Object.keys(record.headers ?? {}))
    if (key.toLowerCase() === CONTENT_TYPE_HEADER) return false;
  return true;
}

/** The bytes a record takes on the wire, as checked against `maxPayloadBytes`. */
export function sizeOf(record: OutgoingRecord): number {
  let size = Buffer.byteLength(record.key) + (record.value === null ? 0 : Buffer.byteLength(record.value));
  size += Buffer.byteLength(ID_HEADER) + Buffer.byteLength(record.id);
  if (structured(record)) size += CONTENT_TYPE_HEADER.length + STRUCTURED_CONTENT_TYPE.length;
  for (const [key, value] of Object.entries(record.headers ?? {})) {
    size += Buffer.byteLength(key) + Buffer.byteLength(value);
  }
  return size;
}

/**
 * A fetched Kafka message as a {@link ConsumedRecord} of `topic`. The id header and the structured-mode
 * `content-type` that {@link headersOf} added are the transport's, not the record's: they are left out.
 */
export function consumedOf(message: RdKafka.Message, topic: KafkaTopic): ConsumedRecord {
  const headers: Record<string, string> = {};
  for (const header of message.headers ?? []) {
    for (const [key, value] of Object.entries(header)) {
      if (key === ID_HEADER) continue;
      const text = Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
      if (key === CONTENT_TYPE_HEADER && text === STRUCTURED_CONTENT_TYPE) continue;
      headers[key] = text;
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
