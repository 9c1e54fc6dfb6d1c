import { type ConsumedRecord, type OutgoingRecord, STRUCTURED_CONTENT_TYPE } from '@sluice/core';
import type { KafkaTopic } from './kafka-topics.js';

/** The Kafka header carrying `OutgoingRecord.id`; consumers never see it among `headers`. */
export const ID_HEADER = 'sluice.id';

/** The Kafka binding's `content-type` header, named as the binding (and the cloudevents SDK) spells it. */
export const CONTENT_TYPE_HEADER = 'content-type';

/** Whether the record gets the structured-mode `content-type` header. */
function structured(record: OutgoingRecord): boolean {
  if (record.value === null) return false;
  for (const key of Object.keys(record.headers ?? {}))
    if (key.toLowerCase() === CONTENT_TYPE_HEADER) return false;
  return true;
}

/**
 * The Kafka headers of a record: its id, the CloudEvents Kafka binding's structured-mode `content-type` (unless
 * the record brings its own `content-type`, binary mode, or is a tombstone), then its own headers.
 */
export function kafkaHeaders(record: OutgoingRecord): Map<Buffer, Buffer> {
  const headers = new Map<Buffer, Buffer>([[Buffer.from(ID_HEADER), Buffer.from(record.id)]]);
  if (structured(record)) headers.set(Buffer.from(CONTENT_TYPE_HEADER), Buffer.from(STRUCTURED_CONTENT_TYPE));
  for (const [key, value] of Object.entries(record.headers ?? {}))
    headers.set(Buffer.from(key), Buffer.from(value));
  return headers;
}

/**
 * A fetched record's headers as its {@link ConsumedRecord} carries them: the id and the structured-mode
 * `content-type` that {@link kafkaHeaders} added are the transport's, not the record's, so they are left out.
 */
export function consumedHeaders(raw: Iterable<[Buffer | null | undefined, Buffer | null | undefined]>) {
  const headers: Record<string, string> = {};
  for (const [k, v] of raw) {
    const key = k?.toString('utf8') ?? '';
    const value = v?.toString('utf8') ?? '';
    if (key === ID_HEADER) continue;
    if (key === CONTENT_TYPE_HEADER && value === STRUCTURED_CONTENT_TYPE) continue;
    headers[key] = value;
  }
  return headers;
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
