import type { EventContract, EventInput } from '../contracts/define-event.js';
import type { EventContext } from '../envelope/envelope.js';
import { InvalidOptionError } from '../errors.js';
import { type PreparedEvent, prepareEvent } from './prepare-event.js';

/** One version of a fact published as several versions: `{ contract: OrderPlacedV2, data: { ... } }`. */
export interface VersionedEvent<C extends EventContract = EventContract> {
  readonly contract: C;
  readonly data: EventInput<C>;
}

/** `VersionedEvent`s typed per element: each `data` is its own `contract`'s input. */
export type VersionedEvents<Cs extends readonly EventContract[]> = {
  readonly [I in keyof Cs]: VersionedEvent<Cs[I]>;
};

/**
 * Validates one business fact published as several versions of its type during a migration (each against its
 * own contract, with its own event id) and ties them together: every event carries the fact's id (the first
 * event's id) and the dataschemas of all of them (`Envelope.sluicefact`, `sluicefactschemas`), so a consumer
 * applies the fact once, as the newest version it handles. Returns the events oldest version first: the order
 * to append them in, in one transaction.
 *
 * Throws `InvalidOptionError` unless there are at least two events, all of one type, of different versions, and
 * with the same key (per-key order holds across the versions); `ContractViolationError` when one's data
 * violates its contract. Nothing is written in either case.
 */
export function prepareVersions(
  events: readonly VersionedEvent[],
  context?: EventContext,
  now = Date.now(),
): PreparedEvent[] {
  const where = 'appendVersions';
  if (!Array.isArray(events) || events.length < 2) {
    throw new InvalidOptionError(
      where,
      'events',
      'needs two or more versions of one event ({ contract, data } each); append a single version with append()',
    );
  }
  const sorted = [...events].sort((a, b) => a.contract.version - b.contract.version);
  const first = sorted[0]!.contract;
  for (let i = 1; i < sorted.length; i++) {
    const c = sorted[i]!.contract;
    if (c.type !== first.type) {
      throw new InvalidOptionError(
        where,
        'events',
        `mixes ${first.type} and ${c.type}; appendVersions publishes one fact as versions of one type (append other events separately)`,
      );
    }
    if (c.version === sorted[i - 1]!.contract.version) {
      throw new InvalidOptionError(
        where,
        'events',
        `has ${c.type} v${c.version} twice; give each version once`,
      );
    }
  }
  const prepared = sorted.map((e) => prepareEvent(e.contract, e.data as never, context, now));
  const key = prepared[0]!.key;
  for (let i = 1; i < prepared.length; i++) {
    if (prepared[i]!.key !== key) {
      const c = sorted[i]!.contract;
      throw new InvalidOptionError(
        where,
        'events',
        `gives ${c.type} v${c.version} the key ${prepared[i]!.key} but v${first.version} the key ${key}; every version of the fact must carry the same key`,
      );
    }
  }
  const fact = { id: prepared[0]!.id, schemas: prepared.map((p) => p.dataschema).join(' ') };
  return prepared.map((p) => ({ ...p, fact }));
}
