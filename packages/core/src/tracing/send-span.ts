import { type Link, type Span, SpanKind } from '@opentelemetry/api';
import { ATTR, MESSAGING_SYSTEM } from './messaging-attributes.js';
import { sluiceTracer } from './sluice-tracer.js';
import { parseTraceparent, traceparentInValue } from './traceparent.js';

/** At most this many links on one send span (the SDK's default span link limit is 128 too). */
export const MAX_SEND_LINKS = 128;

/** What the send span reads of each record it carries: an outbox row or an outgoing record. */
export interface SentRecord {
  readonly topic: string;
  /** The encoded envelope, or null for a tombstone. */
  readonly value: string | null;
}

/**
 * Starts the span of one published batch, `"send <topic>"` (kind PRODUCER; just `"send"` when the batch holds
 * several topics), or returns `undefined` when no SDK is registered. Attributes: `messaging.system`,
 * `messaging.destination.name` (when one topic), `messaging.operation.type` = `send`,
 * `messaging.operation.name` = `publish`, `messaging.batch.message_count`.
 *
 * When the span is recording, it links to the append span of each record (the `traceparent` in its envelope),
 * up to {@link MAX_SEND_LINKS} links: the first 128 records with a traceparent; later ones are not linked (the
 * count of all records is in `messaging.batch.message_count`). Envelopes are scanned for their traceparent only
 * then, so a non-recording span costs nothing per record. The caller ends the span.
 */
export function startSendSpan(records: readonly SentRecord[]): Span | undefined {
  const tracer = sluiceTracer();
  if (tracer === undefined || records.length === 0) return undefined;
  const topic = records[0]!.topic;
  let single = true;
  for (const r of records) {
    if (r.topic !== topic) {
      single = false;
      break;
    }
  }
  const span = tracer.startSpan(single ? `send ${topic}` : 'send', {
    kind: SpanKind.PRODUCER,
    attributes: {
      [ATTR.system]: MESSAGING_SYSTEM,
      ...(single ? { [ATTR.destination]: topic } : {}),
      [ATTR.operationType]: 'send',
      [ATTR.operationName]: 'publish',
      [ATTR.batchCount]: records.length,
    },
  });
  if (span.isRecording()) {
    const links: Link[] = [];
    for (const r of records) {
      const context = parseTraceparent(traceparentInValue(r.value));
      if (context === undefined) continue;
      links.push({ context });
      if (links.length === MAX_SEND_LINKS) break;
    }
    if (links.length > 0) span.addLinks(links);
  }
  return span;
}
