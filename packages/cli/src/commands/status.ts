import type { OutboxPartitionStats, OutboxStats } from '@sluice/core';
import { DB_OPTION, JSON_OPTION, openOutboxStore, SCHEMA_OPTION } from '../context.js';
import type { Command } from './command.js';

/** One live relay instance and what it publishes. */
export interface RelayStatus {
  readonly owner: string;
  readonly partitions: readonly number[];
  readonly pending: number;
  readonly oldestPendingAgeMs: number | null;
}

/** What `sluice status --json` prints. */
export interface OutboxStatus extends OutboxStats {
  /** Live relay instances (lease holders), each with its partitions and their lag. */
  readonly relays: readonly RelayStatus[];
  /** Partitions no live relay holds: nobody publishes them until a relay takes them. */
  readonly unowned: readonly number[];
}

export const statusCommand: Command = {
  spec: {
    name: 'status',
    summary:
      'how far behind the relays are: pending outbox rows, age of the oldest, each relay instance with its partitions',
    usage: 'sluice status [--db FILE|postgres://URL] [--schema NAME] [--json]',
    options: [DB_OPTION, SCHEMA_OPTION, JSON_OPTION],
  },
  async run(options) {
    const outbox = await openOutboxStore(options, { source: 'urn:sluice:status' });
    try {
      const status = outboxStatus(await outbox.store.stats());
      if (options['json']) console.log(JSON.stringify(status));
      else {
        const age = (ms: number | null) => (ms === null ? '-' : `${ms} ms`);
        console.log(`outbox ${outbox.name}`);
        console.log(`  pending events       ${status.pending}`);
        console.log(`  oldest pending age   ${age(status.oldestPendingAgeMs)}`);
        console.log(
          `  relays               ${status.relays.length === 0 ? 'none (no relay running)' : status.relays.length} (${status.partitions.length} partition${status.partitions.length === 1 ? '' : 's'})`,
        );
        for (const r of status.relays) {
          console.log(
            `    ${r.owner}  partitions ${ranges(r.partitions)}  pending ${r.pending}  oldest ${age(r.oldestPendingAgeMs)}`,
          );
        }
        if (status.unowned.length > 0 && status.relays.length > 0) {
          console.log(`  without a relay      partitions ${ranges(status.unowned)}`);
        }
      }
      return 0;
    } finally {
      await outbox.close();
    }
  },
};

/** Groups the per-partition stats by live owner. */
export function outboxStatus(stats: OutboxStats): OutboxStatus {
  const byOwner = new Map<string, OutboxPartitionStats[]>();
  const unowned: number[] = [];
  for (const p of stats.partitions) {
    if (p.owner === null) unowned.push(p.partition);
    else byOwner.set(p.owner, [...(byOwner.get(p.owner) ?? []), p]);
  }
  const relays = [...byOwner].map(([owner, parts]) => {
    const ages = parts.flatMap((p) => (p.oldestPendingAgeMs === null ? [] : [p.oldestPendingAgeMs]));
    return {
      owner,
      partitions: parts.map((p) => p.partition),
      pending: parts.reduce((n, p) => n + p.pending, 0),
      oldestPendingAgeMs: ages.length === 0 ? null : Math.max(...ages),
    };
  });
  return { ...stats, relays, unowned };
}

/** `0-7,9,12-15` */
function ranges(partitions: readonly number[]): string {
  const out: string[] = [];
  let start: number | undefined;
  let prev: number | undefined;
  for (const p of [...partitions, Number.NaN]) {
    if (start !== undefined && prev !== undefined && p === prev + 1) {
      prev = p;
      continue;
    }
    if (start !== undefined && prev !== undefined) out.push(start === prev ? `${start}` : `${start}-${prev}`);
    start = p;
    prev = p;
  }
  return out.join(',');
}
