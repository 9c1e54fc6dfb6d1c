import type { EventContract } from '../contracts/define-event.js';
import { deprecationFields, isDeprecatedAt } from '../contracts/deprecation-notice.js';
import type { Envelope } from '../envelope/envelope.js';
import type { Logger } from '../util/logger.js';
import type { Item } from './consumer-item.js';

/**
 * Notices events of deprecated contract versions a consumer receives (those produced on or after the
 * deprecation's `since` date, by the event's `time`): counts each delivered record once and logs a warning
 * once per type and version per consumer, naming the producing `source`, so operators see who still produces it.
 */
export class DeprecationWatch {
  readonly #routes: ReadonlyMap<string, { readonly wire: EventContract }>;
  readonly #logger: Logger;
  readonly #group: string;
  readonly #warned = new Set<string>();
  received = 0;

  constructor(routes: ReadonlyMap<string, { readonly wire: EventContract }>, logger: Logger, group: string) {
    this.#routes = routes;
    this.#logger = logger;
    this.#group = group;
  }

  /**
   * Notices a delivered record's envelope, the first time it is prepared (not again on retries); returns how
   * many deprecated records were received so far.
   */
  notice(item: Item, envelope: Envelope): number {
    if (item.noticed) return this.received;
    item.noticed = true;
    const contract = this.#routes.get(envelope.dataschema)?.wire;
    if (contract?.deprecated === undefined || !isDeprecatedAt(contract, envelope.time)) return this.received;
    this.received++;
    if (this.#warned.has(envelope.dataschema)) return this.received;
    this.#warned.add(envelope.dataschema);
    this.#logger.warn(
      `received ${contract.type} v${contract.version}, deprecated since ${contract.deprecated.since}, from ${envelope.source}: its producer should move on (warned once per version; stats().deprecatedReceived counts them)`,
      { ...deprecationFields(contract), group: this.#group, source: envelope.source, id: envelope.id },
    );
    return this.received;
  }
}
