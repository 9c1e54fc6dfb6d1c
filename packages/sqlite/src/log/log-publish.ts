import { type OutgoingRecord, PayloadTooLargeError, type PublishAck, TransportError } from '@sluice/core';
import { partitionFor } from '@sluice/core/adapter';
import { LOG_NAME } from './log-errors.js';
import type { LogStore, LogTopic } from './log-store.js';

/**
 * Appends `records` in one write transaction and returns their acks in input order. Everything is checked
 * (topics exist, payload sizes) before anything is written, so a refused batch writes nothing.
 *
 * On an `entity` topic the key's earlier record in the partition is deleted; a tombstone (`value: null`) is kept
 * until the sweep removes it after `tombstoneRetentionMs`.
 */
export function publishRecords(store: LogStore, records: readonly OutgoingRecord[]): PublishAck[] {
  const count = records.length;
  if (count === 0) return [];
  const topics = new Array<LogTopic>(count);
  const headers = new Array<string | null>(count);
  let last: LogTopic | undefined;
  for (let i = 0; i < count; i++) {
    const record = records[i]!;
    const topic = last !== undefined && last.name === record.topic ? last : store.topic(record.topic);
    last = topic;
    topics[i] = topic;
    headers[i] = checkRecord(record, store.options.maxPayloadBytes);
  }

  const now = Date.now();
  const sql = store.sql;
  return store.write('publish', () => {
    const next = new Map<string, number[]>();
    const acks = new Array<PublishAck>(count);
    for (let i = 0; i < count; i++) {
      const record = records[i]!;
      const topic = topics[i]!;
      const partition = topic.partitions === 1 ? 0 : partitionFor(record.key, topic.partitions);
      let offsets = next.get(topic.name);
      if (offsets === undefined) {
        offsets = new Array<number>(topic.partitions).fill(-1);
        next.set(topic.name, offsets);
      }
      let offset = offsets[partition]!;
      if (offset < 0) offset = store.nextOffset(topic.name, partition);
      sql.insertRecord.run(topic.name, partition, offset, record.key, record.value, headers[i]!, now);
      if (topic.kind === 'entity') {
        const previous = sql.selectEntityOffset.get(topic.name, partition, record.key);
        if (previous !== undefined) sql.deleteRecord.run(topic.name, partition, previous);
        sql.upsertEntityKey.run(
          topic.name,
          partition,
          record.key,
          offset,
          record.value === null ? now : null,
        );
      }
      offsets[partition] = offset + 1;
      acks[i] = { topic: topic.name, partition, offset: String(offset) };
    }
    for (const [name, offsets] of next) {
      for (let p = 0; p < offsets.length; p++) {
        const offset = offsets[p]!;
        if (offset >= 0) sql.updateNextOffset.run(offset, name, p);
      }
    }
    return acks;
  });
}

/** Checks one record's shape and size; returns its headers as JSON (`null` when it has none). */
function checkRecord(record: OutgoingRecord, maxBytes: number): string | null {
  const { key, value } = record;
  if (typeof key !== 'string') throw invalidRecord(record, 'key must be a string');
  if (value !== null && typeof value !== 'string') {
    throw invalidRecord(record, 'value must be a string (the encoded envelope) or null (a tombstone)');
  }
  let json: string | null = null;
  if (record.headers != null && Object.keys(record.headers).length > 0) json = JSON.stringify(record.headers);
  const chars = key.length + (value === null ? 0 : value.length) + (json === null ? 0 : json.length);
  if (chars * 3 > maxBytes) {
    const bytes =
      Buffer.byteLength(key) +
      (value === null ? 0 : Buffer.byteLength(value)) +
      (json === null ? 0 : Buffer.byteLength(json));
    if (bytes > maxBytes) throw new PayloadTooLargeError(LOG_NAME, bytes, maxBytes);
  }
  return json;
}

function invalidRecord(record: OutgoingRecord, reason: string): TransportError {
  return new TransportError(
    'SLUICE_INVALID_RECORD',
    `${LOG_NAME}: record ${JSON.stringify(record.id)} for topic ${record.topic}: ${reason}; nothing was written`,
  );
}
