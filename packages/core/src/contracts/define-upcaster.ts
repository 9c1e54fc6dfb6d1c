import { InvalidOptionError } from '../errors.js';
import type { EventContract, EventData, EventInput } from './define-event.js';

/**
 * Carries an event of one contract version to the next (`from.version + 1`) of the same type, so a consumer
 * written for the newer version also applies events still published as the older one. The consumer chains
 * upcasters (v1 -> v2 -> v3) up to the nearest version it has a handler for, validates the result against that
 * handler's contract and dead-letters the event, naming the upcaster, when `fn` throws or its result does not
 * validate.
 *
 * `fn` owns mapping the data only: it must be pure and synchronous (it runs for every delivery, retries
 * included), and must keep the key field's value (the key orders the event and names its inbox chain). It does
 * not own the envelope (id, source, time, sequence stay the wire's), validation, or retries.
 */
export interface Upcaster<
  From extends EventContract = EventContract,
  To extends EventContract = EventContract,
> {
  readonly kind: 'sluice.upcaster';
  readonly from: From;
  readonly to: To;
  /** `order.placed v1->v2`: how logs and dead letters name it. */
  readonly name: string;
  readonly fn: (data: EventData<From>) => EventInput<To>;
}

/**
 * Declares how to carry `from`'s data to `to`, the next version of the same event type:
 * `defineUpcaster(OrderPlacedV1, OrderPlacedV2, (v1) => ({ ...v1, currency: 'EUR' }))`. Give the upcasters to
 * the consumer (`createConsumer({ ..., upcasters: [...] })`).
 *
 * Throws `InvalidOptionError` when `from` and `to` are not contracts of one type, `to.version` is not
 * `from.version + 1`, their key types differ, or `fn` is not a function.
 */
export function defineUpcaster<From extends EventContract, To extends EventContract>(
  from: From,
  to: To,
  fn: (data: EventData<From>) => EventInput<To>,
): Upcaster<From, To> {
  const where = 'defineUpcaster';
  if (from?.kind !== 'sluice.event') {
    throw new InvalidOptionError(where, 'from', 'must be an event contract from defineEvent()');
  }
  if (to?.kind !== 'sluice.event') {
    throw new InvalidOptionError(where, 'to', 'must be an event contract from defineEvent()');
  }
  const name = `${from.type} v${from.version}->v${to.version}`;
  if (from.type !== to.type) {
    throw new InvalidOptionError(
      where,
      'to',
      `must be a version of ${from.type}, got ${to.type} v${to.version}; an upcaster carries one event type from a version to the next`,
    );
  }
  if (to.version !== from.version + 1) {
    throw new InvalidOptionError(
      where,
      'to',
      `must be version ${from.version + 1} of ${from.type} (the version after ${from.version}), got v${to.version}; declare one upcaster per step (v1->v2, v2->v3) and the consumer chains them`,
    );
  }
  if (from.key.name !== to.key.name || from.keyField !== to.keyField) {
    throw new InvalidOptionError(
      where,
      'to',
      `carries the key ${to.key.name} in field ${to.keyField}, but ${from.type} v${from.version} carries ${from.key.name} in ${from.keyField}; an upcaster cannot move an event to another key (the key orders it): publish a new event type instead`,
    );
  }
  if (typeof fn !== 'function') {
    throw new InvalidOptionError(
      where,
      'fn',
      `must be a function from ${from.type} v${from.version} data to v${to.version} data`,
    );
  }
  return Object.freeze({ kind: 'sluice.upcaster', from, to, name, fn });
}
