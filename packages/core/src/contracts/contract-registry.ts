import { ContractRegistryError } from '../errors.js';
import type { EventContract } from './define-event.js';
import type { TopicSpec } from './define-topic.js';
import { checkEntityTopicKeys } from './entity-topic-keys.js';
import { checkRegistryKeys } from './keys/check-registry-keys.js';

/**
 * The set of contracts a service produces or consumes, looked up by type and version or by `dataschema`.
 * `createRegistry` refuses contracts that disagree on a shared key (`SLUICE_KEY_CONFLICT`, see `checkRegistryKeys`).
 */
export interface ContractRegistry {
  get(type: string, version: number): EventContract | undefined;
  byDataschema(dataschema: string): EventContract | undefined;
  /** Every version registered for a type, lowest first. */
  versionsOf(type: string): readonly EventContract[];
  all(): readonly EventContract[];
  /** Topics of all contracts, each once. Throws if two contracts declare one topic name differently. */
  topics(): readonly TopicSpec[];
}

export function createRegistry(contracts: Iterable<EventContract>): ContractRegistry {
  const byId = new Map<string, EventContract>();
  const bySchema = new Map<string, EventContract>();
  const byType = new Map<string, EventContract[]>();
  const topics = new Map<string, TopicSpec>();
  for (const c of contracts) {
    const id = `${c.type}@${c.version}`;
    const existing = byId.get(id);
    if (existing && existing !== c) {
      throw new ContractRegistryError(
        'SLUICE_DUPLICATE_CONTRACT',
        `contract ${c.type} v${c.version} is defined twice; define each type and version once and import it`,
      );
    }
    if (existing) continue;
    const same = bySchema.get(c.dataschema);
    if (same) {
      throw new ContractRegistryError(
        'SLUICE_DUPLICATE_DATASCHEMA',
        `contracts ${same.type} v${same.version} and ${c.type} v${c.version} share the dataschema ${c.dataschema}; give each contract version its own dataschema`,
      );
    }
    byId.set(id, c);
    bySchema.set(c.dataschema, c);
    const versions = byType.get(c.type) ?? [];
    versions.push(c);
    versions.sort((a, b) => a.version - b.version);
    byType.set(c.type, versions);
    const t = topics.get(c.topic.name);
    if (
      t &&
      (t.kind !== c.topic.kind ||
        t.partitions !== c.topic.partitions ||
        t.retentionMs !== c.topic.retentionMs)
    ) {
      throw new ContractRegistryError(
        'SLUICE_TOPIC_CONFLICT',
        `topic ${c.topic.name} is declared twice with different settings (by ${c.type} v${c.version}); declare it once with defineTopic() and share it`,
      );
    }
    topics.set(c.topic.name, c.topic);
  }
  checkEntityTopicKeys(byId.values());
  checkRegistryKeys([...byId.values()]);
  return Object.freeze({
    get: (type: string, version: number) => byId.get(`${type}@${version}`),
    byDataschema: (dataschema: string) => bySchema.get(dataschema),
    versionsOf: (type: string) => byType.get(type) ?? [],
    all: () => [...byId.values()],
    topics: () => [...topics.values()],
  });
}
