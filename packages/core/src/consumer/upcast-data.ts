import { checkEvent } from '../contracts/define-event.js';
import type { Envelope } from '../envelope/envelope.js';
import { errorMessage, SluiceError } from '../errors.js';
import type { UpcastRoute } from './upcast-routes.js';

/**
 * The data of `envelope` carried to its handler's version: validated against the wire version's contract (a
 * violation there is the producer's: `SLUICE_CONTRACT_VIOLATION`), then through each upcaster, the result of
 * each validated against that upcaster's `to`. Throws `SLUICE_UPCAST_FAILED` naming the upcaster when one
 * throws, returns a promise, produces data its `to` contract refuses, or changes the key.
 */
export function upcastData(route: UpcastRoute<unknown>, envelope: Envelope): Record<string, unknown> {
  let data: Record<string, unknown> = checkEvent(route.wire, envelope.data, 'consume').data;
  for (const u of route.upcasters) {
    const fail = (what: string, cause?: unknown) =>
      new SluiceError(
        'SLUICE_UPCAST_FAILED',
        `upcaster ${u.name} ${what} (event ${envelope.id}, key ${envelope.subject}); fix the upcaster and redrive the event`,
        cause === undefined ? {} : { cause },
      );
    let out: unknown;
    try {
      out = u.fn(data as never);
    } catch (error) {
      throw fail(`threw: ${errorMessage(error)}`, error);
    }
    if (out instanceof Promise) {
      out.catch(() => undefined);
      throw fail('returned a promise; upcasters must be synchronous');
    }
    let checked: { data: Record<string, unknown>; key: string };
    try {
      checked = checkEvent(u.to, out, 'consume');
    } catch (error) {
      throw fail(`produced data that ${u.to.type} v${u.to.version} refuses: ${errorMessage(error)}`, error);
    }
    if (checked.key !== envelope.subject) {
      throw fail(`changed the key from ${envelope.subject} to ${checked.key}; an upcaster must keep the key`);
    }
    data = checked.data;
  }
  return data;
}
