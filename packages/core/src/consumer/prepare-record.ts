import { decodeEnvelope } from '../envelope/codec.js';
import type { Envelope } from '../envelope/envelope.js';
import { errorCode, errorMessage } from '../errors.js';
import type { Item } from './consumer-item.js';
import type { ConsumedEvent, Handler } from './handler.js';
import { toEvent } from './to-event.js';

/** An event ready for its handler. */
export interface Prepared<Tx> {
  readonly kind: 'apply';
  readonly item: Item;
  readonly envelope: Envelope;
  readonly handler: Handler<Tx>;
  readonly event: ConsumedEvent;
}

/** Why a record is not handed to a handler. */
export type Unapplied =
  | { readonly kind: 'skip'; readonly reason: string; readonly envelope?: Envelope }
  | {
      readonly kind: 'dead-letter';
      readonly error: { code: string; message: string };
      readonly envelope?: Envelope;
    };

/** The handlers of a consumer, by dataschema, and the versions it handles of each type. */
export interface HandlerIndex<Tx> {
  readonly byDataschema: ReadonlyMap<string, Handler<Tx>>;
  readonly versionsOf: ReadonlyMap<string, readonly number[]>;
  readonly onUnknownType: 'skip' | 'dead-letter';
}

/** Indexes handlers by dataschema and type. */
export function indexHandlers<Tx>(
  handlers: readonly Handler<Tx>[],
  onUnknownType: 'skip' | 'dead-letter',
): HandlerIndex<Tx> {
  const byDataschema = new Map<string, Handler<Tx>>();
  const versionsOf = new Map<string, number[]>();
  for (const h of handlers) {
    byDataschema.set(h.contract.dataschema, h);
    const versions = versionsOf.get(h.contract.type) ?? [];
    versions.push(h.contract.version);
    versionsOf.set(h.contract.type, versions);
  }
  return { byDataschema, versionsOf, onUnknownType };
}

/**
 * Decodes and validates a record and finds its handler, or says why it cannot be applied: a tombstone is
 * skipped, a malformed record or invalid data is dead-lettered, a type without a handler is dead-lettered
 * when another version of it is handled (or `onUnknownType: 'dead-letter'`), else skipped.
 */
export function prepareRecord<Tx>(item: Item, handlers: HandlerIndex<Tx>): Prepared<Tx> | Unapplied {
  if (item.deadLetter) return { kind: 'dead-letter', error: item.deadLetter };
  const { record } = item;
  let envelope: Envelope;
  try {
    envelope = decodeEnvelope(record.value);
  } catch (error) {
    if (record.value === null) return { kind: 'skip', reason: 'tombstone' };
    return { kind: 'dead-letter', error: { code: errorCode(error), message: errorMessage(error) } };
  }
  const handler = handlers.byDataschema.get(envelope.dataschema);
  if (!handler) {
    const versions = handlers.versionsOf.get(envelope.type);
    if (versions || handlers.onUnknownType === 'dead-letter') {
      const message = versions
        ? `no handler for ${envelope.type} with dataschema ${envelope.dataschema}; this consumer handles version(s) ${versions.join(', ')}`
        : `no handler for event type ${envelope.type}`;
      return { kind: 'dead-letter', error: { code: 'SLUICE_NO_HANDLER', message }, envelope };
    }
    return { kind: 'skip', reason: `no handler for ${envelope.type}`, envelope };
  }
  try {
    return { kind: 'apply', item, envelope, handler, event: toEvent(handler.contract, envelope, record) };
  } catch (error) {
    return {
      kind: 'dead-letter',
      error: { code: errorCode(error), message: errorMessage(error) },
      envelope,
    };
  }
}
