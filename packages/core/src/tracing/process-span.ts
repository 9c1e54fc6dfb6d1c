import { context, type Span, SpanKind, trace } from '@opentelemetry/api';
import type { ConsumedEvent } from '../consumer/handler.js';
import { ATTR, MESSAGING_SYSTEM } from './messaging-attributes.js';
import { sluiceTracer } from './sluice-tracer.js';
import { recordFailure } from './span-scope.js';
import { parseTraceparent } from './traceparent.js';

/**
 * How one delivery of an event ended, as the process span's `sluice.outcome`: `applied` (the handler ran and
 * its transaction committed), `duplicate` (the inbox had it already; the handler did not run), `held` (its key's
 * chain refused it, e.g. an earlier event is missing), `retried` (the handler or the inbox failed; it runs
 * again later), `dead-lettered` (it failed for the last time and goes to the dead-letter topic).
 */
export type ProcessOutcome = 'applied' | 'duplicate' | 'held' | 'retried' | 'dead-lettered';

/**
 * Starts the span of one delivery of `event` to consumer group `group`, `"process <topic>"` (kind CONSUMER), or
 * returns `undefined` when no SDK is registered or the producer's trace (the event's `traceparent`) is not sampled. Its parent is the span the event's `traceparent` names (the
 * append span in the producer's transaction), so the trace goes on from the producer; an event without one
 * starts a new trace. Attributes: `messaging.system`, `messaging.destination.name`,
 * `messaging.operation.type` = `process`, `messaging.operation.name` = `handle`,
 * `messaging.consumer.group.name`, `messaging.message.id`, `messaging.destination.partition.id`,
 * `sluice.event.type`, `sluice.key`, `sluice.offset`, `sluice.attempt`. Run the handler with `inSpan` so its own
 * spans nest under this one, and end it with {@link endProcessSpan}.
 */
export function startProcessSpan(group: string, event: ConsumedEvent, attempt: number): Span | undefined {
  const tracer = sluiceTracer();
  if (tracer === undefined) return undefined;
  const producer = parseTraceparent(event.envelope.traceparent);
  // The producer's trace is not sampled: under parent-based sampling (the SDK's default) neither would this span
  // be, so none is started. Saves a span per event (a few microseconds each) where traces are not kept.
  if (producer !== undefined && (producer.traceFlags & 1) === 0) return undefined;
  const base = trace.deleteSpan(context.active());
  const parent = producer === undefined ? base : trace.setSpanContext(base, producer);
  return tracer.startSpan(
    `process ${event.topic}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        [ATTR.system]: MESSAGING_SYSTEM,
        [ATTR.destination]: event.topic,
        [ATTR.operationType]: 'process',
        [ATTR.operationName]: 'handle',
        [ATTR.consumerGroup]: group,
        [ATTR.messageId]: event.id,
        [ATTR.partition]: String(event.partition),
        [ATTR.eventType]: event.type,
        [ATTR.key]: event.key,
        [ATTR.offset]: event.offset,
        [ATTR.attempt]: attempt,
      },
    },
    parent,
  );
}

/**
 * Ends a process span with its outcome as `sluice.outcome`; with `error` (the handler's or the inbox's
 * failure) also records the exception and sets status ERROR. Does nothing without a span.
 */
export function endProcessSpan(span: Span | undefined, outcome: ProcessOutcome, error?: unknown): void {
  if (span === undefined) return;
  if (span.isRecording()) {
    span.setAttribute(ATTR.outcome, outcome);
    if (error !== undefined) recordFailure(span, error);
  }
  span.end();
}
