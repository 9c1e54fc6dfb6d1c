import type { Upcaster } from '../contracts/define-upcaster.js';
import { decodeEnvelope } from '../envelope/codec.js';
import type { Envelope } from '../envelope/envelope.js';
import { errorCode, errorMessage } from '../errors.js';
import type { Item } from './consumer-item.js';
import type { ConsumedEvent, Handler } from './handler.js';
import { toEvent } from './to-event.js';
import { upcastData } from './upcast-data.js';
import { type UpcastRoute, upcastRoutes } from './upcast-routes.js';

/** An event ready for its handler. */
export interface Prepared<Tx> {
  readonly kind: 'apply';
  readonly item: Item;
  readonly envelope: Envelope;
  readonly handler: Handler<Tx>;
  readonly event: ConsumedEvent;
  /** What the inbox records: the event id, or the fact's id for a fact published as several versions. */
  readonly inboxId: string;
}

/** Why a record is not handed to a handler. */
export type Unapplied =
  | { readonly kind: 'skip'; readonly reason: string; readonly envelope?: Envelope }
  | {
      readonly kind: 'dead-letter';
      readonly error: { code: string; message: string };
      readonly envelope?: Envelope;
    };

/** The handlers of a consumer, by the dataschema they apply (directly or through upcasters), and by type. */
export interface HandlerIndex<Tx> {
  readonly routes: ReadonlyMap<string, UpcastRoute<Tx>>;
  readonly versionsOf: ReadonlyMap<string, readonly number[]>;
  readonly onUnknownType: 'skip' | 'dead-letter';
}

/** Indexes handlers and upcasters (see `upcastRoutes` for what it refuses). */
export function indexHandlers<Tx>(
  handlers: readonly Handler<Tx>[],
  onUnknownType: 'skip' | 'dead-letter',
  upcasters: readonly Upcaster[] = [],
): HandlerIndex<Tx> {
  const versionsOf = new Map<string, number[]>();
  for (const h of handlers) {
    const versions = versionsOf.get(h.contract.type) ?? [];
    versions.push(h.contract.version);
    versionsOf.set(h.contract.type, versions);
  }
  return { routes: upcastRoutes(handlers, upcasters), versionsOf, onUnknownType };
}

/**
 * Decodes and validates a record and finds its handler, or says why it cannot be applied: a tombstone is
 * skipped, a malformed record or invalid data is dead-lettered, as is an event whose upcaster fails; a version
 * of a fact published as several versions is skipped when the consumer applies a newer one of them; a type
 * without a handler (or upcasters to one) is dead-lettered when another version of it is handled (or
 * `onUnknownType: 'dead-letter'`), else skipped.
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
  const route = handlers.routes.get(envelope.dataschema);
  const chosen = chosenVersion(envelope, handlers.routes);
  if (chosen !== undefined && chosen.wire.dataschema !== envelope.dataschema) {
    return {
      kind: 'skip',
      reason: `fact ${envelope.sluicefact} was also published as ${chosen.wire.type} v${chosen.wire.version}, which this consumer applies instead`,
      envelope,
    };
  }
  if (!route) {
    const versions = handlers.versionsOf.get(envelope.type);
    if (versions || handlers.onUnknownType === 'dead-letter') {
      const message = versions
        ? `no handler for ${envelope.type} with dataschema ${envelope.dataschema}; this consumer handles version(s) ${versions.join(', ')} and has no upcaster from it`
        : `no handler for event type ${envelope.type}`;
      return { kind: 'dead-letter', error: { code: 'SLUICE_NO_HANDLER', message }, envelope };
    }
    return { kind: 'skip', reason: `no handler for ${envelope.type}`, envelope };
  }
  try {
    const { handler } = route;
    const upcast =
      route.upcasters.length === 0
        ? undefined
        : { from: route.wire.version, data: upcastData(route as UpcastRoute<unknown>, envelope) };
    const event = toEvent(handler.contract, envelope, record, upcast);
    const inboxId = chosen === undefined ? envelope.id : (envelope.sluicefact ?? envelope.id);
    return { kind: 'apply', item, envelope, handler, event, inboxId };
  } catch (error) {
    return {
      kind: 'dead-letter',
      error: { code: errorCode(error), message: errorMessage(error) },
      envelope,
    };
  }
}

/**
 * For an event published with other versions of its fact (`sluicefactschemas`): the route of the newest of
 * them this consumer can apply, or undefined (not such an event, or none applicable).
 */
function chosenVersion<Tx>(
  envelope: Envelope,
  routes: ReadonlyMap<string, UpcastRoute<Tx>>,
): UpcastRoute<Tx> | undefined {
  if (envelope.sluicefact === undefined || envelope.sluicefactschemas === undefined) return undefined;
  let best: UpcastRoute<Tx> | undefined;
  for (const schema of envelope.sluicefactschemas.split(' ')) {
    const r = routes.get(schema);
    if (r !== undefined && (best === undefined || r.wire.version > best.wire.version)) best = r;
  }
  return best;
}
