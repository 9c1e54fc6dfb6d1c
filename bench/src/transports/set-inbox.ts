import type { InboxStore } from '@sluice/core';
import type { BatchOutcome } from '@sluice/core/adapter';

/**
 * An inbox that remembers applied ids in a Set: the transports benchmark measures the bus and the consumer
 * runtime, not a database's commit (the latency benchmark uses the SQLite inbox). Like the PostgreSQL inbox it
 * takes batches (`runBatch`), so the runtime's batched path is the one measured. Never for durability claims.
 */
export function setInbox(): InboxStore<undefined> & { readonly applied: Set<string> } {
  const applied = new Set<string>();
  return {
    name: 'bench-set',
    applied,
    async runOnce(_group, id, apply) {
      if (applied.has(id)) return 'duplicate';
      const done = apply(undefined);
      if (done instanceof Promise) await done;
      applied.add(id);
      return 'applied';
    },
    async runBatch(_group, events) {
      const outcomes: BatchOutcome[] = [];
      for (const { eventId, apply } of events) {
        if (applied.has(eventId)) {
          outcomes.push({ status: 'duplicate' });
          continue;
        }
        try {
          const done = apply(undefined);
          if (done instanceof Promise) await done; // a synchronous handler costs no microtask turn
          applied.add(eventId);
          outcomes.push({ status: 'applied' });
        } catch (error) {
          outcomes.push({ status: 'failed', error });
        }
      }
      return outcomes;
    },
    // Keeps no chains (it ignores `chain`): the benchmark is not about gaps.
    async passChain() {
      return 'passed' as const;
    },
    async startGroup() {
      return false;
    },
    async close() {},
  };
}
