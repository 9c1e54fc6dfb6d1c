import { checkEvent, type EventContract, type EventInput } from '../contracts/define-event.js';
import type { Envelope, EventContext } from '../envelope/envelope.js';
import { uuidv7 } from '../envelope/uuidv7.js';
import { traceAppend } from '../tracing/append-span.js';

/** An event validated against its contract, before the store assigns its sequence. */
export interface PreparedEvent {
  readonly id: string;
  readonly type: string;
  readonly dataschema: string;
  readonly topic: string;
  readonly key: string;
  readonly time: string;
  readonly data: Record<string, unknown>;
  /**
   * The W3C traceparent of the append span (see `traceAppend`), when the append ran inside an active span and
   * the caller passed none in its context. `envelopeOf` writes the context's traceparent, else this one.
   */
  readonly traceparent?: string;
  /** Set by `prepareVersions`: the fact this event publishes with its other versions (see `Envelope.sluicefact`). */
  readonly fact?: { readonly id: string; readonly schemas: string };
}

/**
 * Validates `data` against `contract` (throwing `ContractViolationError` with the field path) and gives the
 * event its id and time. Stores call it at the start of `append`, before writing anything, with the append's
 * `context`: unless that carries a `traceparent`, a valid event appended inside an active OpenTelemetry span
 * gets an append span `"<topic> create"` and its traceparent (see `traceAppend`; nothing at all without an
 * active span).
 */
export function prepareEvent<C extends EventContract>(
  contract: C,
  data: EventInput<C>,
  context?: EventContext,
  now = Date.now(),
): PreparedEvent {
  const checked = checkEvent(contract, data, 'append');
  const event = {
    id: uuidv7(now),
    type: contract.type,
    dataschema: contract.dataschema,
    topic: contract.topic.name,
    key: checked.key,
    time: new Date(now).toISOString(),
    data: checked.data,
  };
  const traceparent = context?.traceparent === undefined ? traceAppend(event) : undefined;
  return traceparent === undefined ? event : { ...event, traceparent };
}

/** The full envelope of a prepared event once its sequence is known. */
export function envelopeOf(
  event: PreparedEvent,
  source: string,
  sequence: number,
  context?: EventContext,
): Envelope {
  return {
    specversion: '1.0',
    id: event.id,
    source,
    type: event.type,
    time: event.time,
    subject: event.key,
    datacontenttype: 'application/json',
    dataschema: event.dataschema,
    partitionkey: event.key,
    sluiceseq: sequence,
    sluiceseqkind: 'counter',
    ...traceparentOf(event, context),
    ...(context?.correlationid === undefined ? {} : { correlationid: context.correlationid }),
    ...(context?.causationid === undefined ? {} : { causationid: context.causationid }),
    ...(event.fact === undefined ? {} : { sluicefact: event.fact.id, sluicefactschemas: event.fact.schemas }),
    data: event.data,
  };
}

function traceparentOf(event: PreparedEvent, context?: EventContext): { traceparent?: string } {
  const traceparent = context?.traceparent ?? event.traceparent;
  return traceparent === undefined ? {} : { traceparent };
}
