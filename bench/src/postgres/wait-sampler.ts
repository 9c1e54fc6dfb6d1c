import { sleep } from '@sluice/core/adapter';
import type pg from 'pg';

/**
 * Samples what the backends `pids` are doing (pg_stat_activity: `wait_event_type:wait_event`, or `running`)
 * every `intervalMs` until `stop` says so, counting into `into`. Counts include idle backends (waiting for
 * the client), so a wait's share of all samples is its share of the connections' time.
 */
export async function sampleWaits(
  monitor: pg.PoolClient,
  pids: readonly number[],
  into: Map<string, number>,
  stop: () => boolean,
  intervalMs = 5,
): Promise<void> {
  while (!stop()) {
    const { rows } = await monitor.query<{ w: string }>(
      `SELECT coalesce(wait_event_type || ':' || wait_event, 'running') AS w FROM pg_stat_activity WHERE pid = ANY ($1)`,
      [pids],
    );
    for (const r of rows) into.set(r.w, (into.get(r.w) ?? 0) + 1);
    await sleep(intervalMs);
  }
}

/** `wait`'s share of all samples in `waits`, in percent. */
export function waitShare(waits: ReadonlyMap<string, number>, wait: string): number {
  let total = 0;
  for (const n of waits.values()) total += n;
  return total === 0 ? 0 : ((waits.get(wait) ?? 0) / total) * 100;
}
