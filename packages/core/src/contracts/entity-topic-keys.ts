import { ContractRegistryError } from '../errors.js';
import type { EventContract } from './define-event.js';

/**
 * Checks that every contract published to one `entity` topic uses one key type. An entity topic keeps the latest
 * value per key: two key types there (a course `42` and a student `42`) would compact one entity's record away
 * with another's. Throws `SLUICE_ENTITY_TOPIC_KEYS` naming the topic, both contracts and both keys.
 */
export function checkEntityTopicKeys(contracts: Iterable<EventContract>): void {
  const first = new Map<string, EventContract>();
  for (const c of contracts) {
    if (c.topic.kind !== 'entity') continue;
    const seen = first.get(c.topic.name);
    if (seen === undefined) first.set(c.topic.name, c);
    else if (seen.key.name !== c.key.name) {
      throw new ContractRegistryError(
        'SLUICE_ENTITY_TOPIC_KEYS',
        `entity topic ${c.topic.name} would hold two kinds of key: ${seen.type} v${seen.version} is keyed by ${seen.key.name}, ${c.type} v${c.version} by ${c.key.name}. An entity topic keeps the latest value per key, so one entity's record would replace another's: give each key type its own entity topic`,
      );
    }
  }
}
