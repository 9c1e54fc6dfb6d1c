import type { ConsumedRecord, OutgoingRecord } from '../transport/records.js';

/** Header names a dead-lettered record carries beside the original value and headers. */
export const DLQ_HEADERS = {
  code: 'sluice-dlq-error-code',
  message: 'sluice-dlq-error-message',
  attempts: 'sluice-dlq-attempts',
  group: 'sluice-dlq-group',
  topic: 'sluice-dlq-topic',
  partition: 'sluice-dlq-partition',
  offset: 'sluice-dlq-offset',
  failedAt: 'sluice-dlq-failed-at',
  eventId: 'sluice-dlq-event-id',
} as const;

/** A dead letter as tools show it. */
export interface DeadLetter {
  readonly eventId: string;
  readonly group: string;
  readonly error: { readonly code: string; readonly message: string };
  readonly attempts: number;
  readonly failedAt: string;
  readonly original: {
    readonly topic: string;
    readonly partition: number;
    readonly offset: string;
    readonly key: string;
  };
  /** The original value, byte for byte (the envelope, possibly malformed). */
  readonly value: string | null;
  /** Position of the dead letter itself in the dead-letter topic. */
  readonly position: { readonly partition: number; readonly offset: string };
}

/** The record published to the dead-letter topic: the original value and headers, plus why it failed. */
export function deadLetterRecord(
  deadLetterTopic: string,
  group: string,
  record: ConsumedRecord,
  eventId: string,
  error: { code: string; message: string },
  attempts: number,
): OutgoingRecord {
  return {
    topic: deadLetterTopic,
    key: record.key,
    value: record.value,
    id: eventId,
    headers: {
      ...record.headers,
      [DLQ_HEADERS.code]: error.code,
      [DLQ_HEADERS.message]: error.message.slice(0, 4000),
      [DLQ_HEADERS.attempts]: String(attempts),
      [DLQ_HEADERS.group]: group,
      [DLQ_HEADERS.topic]: record.topic,
      [DLQ_HEADERS.partition]: String(record.partition),
      [DLQ_HEADERS.offset]: record.offset,
      [DLQ_HEADERS.failedAt]: new Date().toISOString(),
      [DLQ_HEADERS.eventId]: eventId,
    },
  };
}

/** Reads a record of a dead-letter topic back. */
export function parseDeadLetter(record: ConsumedRecord): DeadLetter {
  const h = record.headers;
  return {
    eventId: h[DLQ_HEADERS.eventId] ?? '',
    group: h[DLQ_HEADERS.group] ?? '',
    error: { code: h[DLQ_HEADERS.code] ?? '', message: h[DLQ_HEADERS.message] ?? '' },
    attempts: Number(h[DLQ_HEADERS.attempts] ?? 0),
    failedAt: h[DLQ_HEADERS.failedAt] ?? '',
    original: {
      topic: h[DLQ_HEADERS.topic] ?? '',
      partition: Number(h[DLQ_HEADERS.partition] ?? 0),
      offset: h[DLQ_HEADERS.offset] ?? '',
      key: record.key,
    },
    value: record.value,
    position: { partition: record.partition, offset: record.offset },
  };
}

/**
 * Marks a redriven record (its value: the group that dead-lettered it). A redriven event is behind its chain on
 * purpose, so consumers apply it without the chain check (and without moving the chain).
 */
export const REDRIVEN_HEADER = 'sluice-redriven-from';

/**
 * The record that puts a dead letter back on its original topic (redrive), without the dead-letter headers and
 * marked {@link REDRIVEN_HEADER}.
 */
export function redriveRecord(letter: DeadLetter, headers: Readonly<Record<string, string>>): OutgoingRecord {
  const kept: Record<string, string> = {};
  const dlq = new Set<string>(Object.values(DLQ_HEADERS));
  for (const [k, v] of Object.entries(headers)) if (!dlq.has(k)) kept[k] = v;
  kept[REDRIVEN_HEADER] = letter.group;
  return {
    topic: letter.original.topic,
    key: letter.original.key,
    value: letter.value,
    id: letter.eventId,
    headers: kept,
  };
}
