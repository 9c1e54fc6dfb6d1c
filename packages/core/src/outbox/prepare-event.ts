import { checkEvent, type EventContract, type EventInput } from '../contracts/define-event.js';
import type { Envelope, EventContext } from '../envelope/envelope.js';
import { uuidv7 } from '../envelope/uuidv7.js';

/** An event validated against its contract, before the store assigns its sequence. */
export interface PreparedEvent {
  readonly id: string;
  readonly type: string;
  readonly dataschema: string;
  readonly topic: string;
  readonly key: string;
  readonly time: string;
  readonly data: Record<string, unknown>;
}

/**
 * Validates `data` against `contract` (throwing `ContractViolationError` with the field path) and gives the
 * event its id and time. Stores call it at the start of `append`, before writing anything.
 */
export function prepareEvent<C extends EventContract>(
  contract: C,
  data: EventInput<C>,
  now = Date.now(),
): PreparedEvent {
  const checked = checkEvent(contract, data, 'append');
  return {
    id: uuidv7(now),
    type: contract.type,
    dataschema: contract.dataschema,
    topic: contract.topic.name,
    key: checked.key,
    time: new Date(now).toISOString(),
    data: checked.data,
  };
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
    ...(context?.traceparent === undefined ? {} : { traceparent: context.traceparent }),
    ...(context?.correlationid === undefined ? {} : { correlationid: context.correlationid }),
    ...(context?.causationid === undefined ? {} : { causationid: context.causationid }),
    data: event.data,
  };
}
