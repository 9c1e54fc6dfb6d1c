import type { EventContract } from '../contracts/define-event.js';
import type { Upcaster } from '../contracts/define-upcaster.js';
import { InvalidOptionError } from '../errors.js';
import type { Handler } from './handler.js';

/** How a consumer applies events of one wire version (dataschema): its handler, after these upcasters. */
export interface UpcastRoute<Tx> {
  readonly handler: Handler<Tx>;
  /** The wire version's contract (the handler's own when `upcasters` is empty). */
  readonly wire: EventContract;
  /** Applied in order: `upcasters[0].from` is the wire version, the last one's `to` is the handler's. */
  readonly upcasters: readonly Upcaster[];
}

/**
 * The consumer's route for every version it can apply: each handled contract directly, and each upcaster's
 * source version through the chain of upcasters up to the nearest handled version (a handler for the wire
 * version itself always wins). Throws `InvalidOptionError` when two upcasters start from one version, or an
 * upcaster's chain reaches no handled version (it would never run: add the handler or drop the upcaster).
 */
export function upcastRoutes<Tx>(
  handlers: readonly Handler<Tx>[],
  upcasters: readonly Upcaster[],
): Map<string, UpcastRoute<Tx>> {
  const routes = new Map<string, UpcastRoute<Tx>>();
  for (const h of handlers)
    routes.set(h.contract.dataschema, { handler: h, wire: h.contract, upcasters: [] });
  const next = new Map<string, Upcaster>();
  for (const u of upcasters) {
    if (u?.kind !== 'sluice.upcaster') {
      throw new InvalidOptionError('consume', 'upcasters', 'must hold upcasters from defineUpcaster()');
    }
    const other = next.get(u.from.dataschema);
    if (other !== undefined && other !== u) {
      throw new InvalidOptionError(
        'consume',
        'upcasters',
        `has two upcasters from ${u.from.type} v${u.from.version} (${other.name}, ${u.name}); keep one`,
      );
    }
    next.set(u.from.dataschema, u);
  }
  const handled = new Set(routes.keys());
  for (const u of next.values()) {
    const chain: Upcaster[] = [];
    let step: Upcaster | undefined = u;
    let target: UpcastRoute<Tx> | undefined;
    while (step !== undefined) {
      chain.push(step);
      target = handled.has(step.to.dataschema) ? routes.get(step.to.dataschema) : undefined;
      if (target !== undefined) break;
      step = next.get(step.to.dataschema);
    }
    if (target === undefined) {
      const last = chain[chain.length - 1]!;
      throw new InvalidOptionError(
        'consume',
        'upcasters',
        `has ${u.name}, whose chain ends at ${last.to.type} v${last.to.version} without reaching a version this consumer handles; add a handler for it or remove the upcaster`,
      );
    }
    // A handler of the wire version itself wins.
    if (!handled.has(u.from.dataschema)) {
      routes.set(u.from.dataschema, { handler: target.handler, wire: u.from, upcasters: chain });
    }
  }
  return routes;
}
