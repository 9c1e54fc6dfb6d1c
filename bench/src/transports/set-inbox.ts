import type { InboxStore } from '@sluice/core';

/**
 * An inbox that remembers applied ids in a Set: the transports benchmark measures the bus and the consumer
 * runtime, not a database's commit (the latency benchmark uses the SQLite inbox). Never for durability claims.
 */
export function setInbox(): InboxStore<undefined> & { readonly applied: Set<string> } {
  const applied = new Set<string>();
  return {
    name: 'bench-set',
    applied,
    async runOnce(_group, id, apply) {
      if (applied.has(id)) return 'duplicate';
      await apply(undefined);
      applied.add(id);
      return 'applied';
    },
    async close() {},
  };
}
