import { percentile } from '../report.js';

/** Latency percentiles of one pipeline: from each event's commit to its arrival, after a warm-up. */
export interface LatencySummary {
  readonly measured: number;
  /** Committed events (after the warm-up) that had not arrived when measurement stopped. */
  readonly notArrived: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/**
 * Summarises commit → arrival latencies of the events committed after the first `warmupMs`. An event that had
 * not arrived by `stoppedAt` counts with `stoppedAt - commit`, a lower bound of its latency, so an overloaded
 * pipeline's percentiles are lower bounds rather than flattered by leaving out what it did not deliver.
 */
export function latencySummary(
  committedAt: ReadonlyMap<string, number>,
  arrivedAt: ReadonlyMap<string, number>,
  warmupMs: number,
  stoppedAt: number,
): LatencySummary {
  const first = Math.min(...committedAt.values());
  const latencies: number[] = [];
  let notArrived = 0;
  for (const [id, t] of committedAt) {
    if (t - first < warmupMs) continue;
    const arrived = arrivedAt.get(id);
    if (arrived === undefined) notArrived++;
    latencies.push((arrived ?? stoppedAt) - t);
  }
  return {
    measured: latencies.length,
    notArrived,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    max: percentile(latencies, 100),
  };
}
