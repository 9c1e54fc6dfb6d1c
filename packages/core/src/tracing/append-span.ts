import { SpanKind, trace } from '@opentelemetry/api';
import { ATTR, MESSAGING_SYSTEM } from './messaging-attributes.js';
import { sluiceTracer } from './sluice-tracer.js';
import { formatTraceparent } from './traceparent.js';

/** What the append span describes of an event being appended. */
export interface AppendedEvent {
  readonly id: string;
  readonly type: string;
  readonly topic: string;
  readonly key: string;
}

/**
 * Traces an outbox append and returns the `traceparent` to store in the event's envelope, or `undefined`.
 *
 * Only inside an active span (the caller's request or transaction): then a short span `"create <topic>"` (kind
 * PRODUCER, the messaging conventions' creation context of one message) starts and ends as a child of it, and
 * its W3C traceparent is returned, so the relay can link to it and the consumer continue the trace from it.
 * Without an active span nothing is started and `undefined` is returned, whatever SDK is registered. With an
 * active span but no SDK (a context propagated by hand), the active span's own traceparent is returned, as the
 * API's no-op tracer would.
 */
export function traceAppend(event: AppendedEvent): string | undefined {
  const active = trace.getActiveSpan();
  if (active === undefined) return undefined;
  const tracer = sluiceTracer();
  if (tracer === undefined) return formatTraceparent(active.spanContext());
  const span = tracer.startSpan(`create ${event.topic}`, {
    kind: SpanKind.PRODUCER,
    attributes: {
      [ATTR.system]: MESSAGING_SYSTEM,
      [ATTR.destination]: event.topic,
      [ATTR.operationType]: 'create',
      [ATTR.operationName]: 'append',
      [ATTR.messageId]: event.id,
      [ATTR.eventType]: event.type,
      [ATTR.key]: event.key,
    },
  });
  span.end();
  return formatTraceparent(span.spanContext());
}
