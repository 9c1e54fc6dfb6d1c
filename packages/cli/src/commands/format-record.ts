import { type ConsumedRecord, decodeEnvelope, errorMessage } from '@sluice/core';
import type { EventMasker } from './event-masker.js';

/**
 * One record as `tail` prints it: position, time, type, key, sequence and data (masked by `masker`, if given),
 * or why it cannot be decoded.
 */
export function formatRecord(record: ConsumedRecord, json: boolean, masker?: EventMasker): string {
  let envelope: ReturnType<typeof decodeEnvelope> | undefined;
  let problem: string | undefined;
  if (record.value === null) problem = 'tombstone';
  else {
    try {
      envelope = decodeEnvelope(record.value);
      if (masker) envelope = masker.mask(envelope);
    } catch (error) {
      problem = errorMessage(error);
    }
  }
  if (json) {
    return JSON.stringify({
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      timestamp: new Date(record.timestamp).toISOString(),
      key: record.key,
      headers: record.headers,
      ...(envelope
        ? { event: envelope }
        : { value: masker ? masker.maskValue(record.value) : record.value, problem }),
    });
  }
  const where = `${record.topic}/${record.partition}@${record.offset}`;
  const when = new Date(record.timestamp).toISOString();
  if (!envelope) return `${where} ${when} key=${record.key} ${problem}`;
  return `${where} ${when} ${envelope.type} key=${envelope.subject} seq=${envelope.sluiceseq} id=${envelope.id} ${JSON.stringify(envelope.data)}`;
}
