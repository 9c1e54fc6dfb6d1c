import { Counter, Gauge, type Registry } from 'prom-client';
import type { PipelineSnapshot } from './service-metrics.js';

/** What a changes pipeline with backfill reports under `details.backfill` (see the relay runner). */
interface BackfillDetails {
  /** When this attempt's source was built: its totals count from then. */
  readonly since: string;
  readonly active: { readonly table: string } | undefined;
  readonly tables: readonly { readonly table: string; readonly rows: number; readonly chunks: number }[];
}

/** One table of one pipeline: the current source's totals, and what earlier sources (before restarts) added. */
interface Seen {
  pipeline: string;
  table: string;
  since: string;
  rows: number;
  chunks: number;
  earlierRows: number;
  earlierChunks: number;
  running: boolean;
}

/**
 * `sluice_backfill_rows_total`, `sluice_backfill_chunks_total` and `sluice_backfill_running`, per pipeline and
 * table, read at scrape time from the pipelines' reports. A pipeline's source counts from when it was built;
 * when a restart builds a new one (`since` changes), what the old one counted is kept, so the counters never
 * go down while the process runs.
 */
export function registerBackfillMetrics(
  registry: Registry,
  read: () => Promise<readonly PipelineSnapshot[]>,
): void {
  const seen = new Map<string, Seen>();
  const update = async () => {
    for (const p of await read()) {
      for (const s of seen.values()) if (s.pipeline === p.name) s.running = false;
      const b = p.details['backfill'] as BackfillDetails | undefined;
      if (b === undefined) continue;
      for (const t of b.tables) {
        const key = JSON.stringify([p.name, t.table]);
        let s = seen.get(key);
        if (s === undefined) {
          s = {
            pipeline: p.name,
            table: t.table,
            since: b.since,
            rows: 0,
            chunks: 0,
            earlierRows: 0,
            earlierChunks: 0,
            running: false,
          };
          seen.set(key, s);
        }
        if (s.since !== b.since) {
          s.earlierRows += s.rows;
          s.earlierChunks += s.chunks;
          s.since = b.since;
        }
        s.rows = t.rows;
        s.chunks = t.chunks;
        s.running = b.active?.table === t.table;
      }
    }
  };
  const labels = (s: Seen) => ({ pipeline: s.pipeline, table: s.table });
  new Counter({
    name: 'sluice_backfill_rows_total',
    help: 'Snapshot rows a backfill handed over to the relay, per table (cumulative across backfills).',
    labelNames: ['pipeline', 'table'],
    registers: [registry],
    async collect() {
      await update();
      this.reset();
      for (const s of seen.values()) this.inc(labels(s), s.earlierRows + s.rows);
    },
  });
  new Counter({
    name: 'sluice_backfill_chunks_total',
    help: 'Backfill chunks completed (their rows handed over), per table (cumulative across backfills).',
    labelNames: ['pipeline', 'table'],
    registers: [registry],
    async collect() {
      await update();
      this.reset();
      for (const s of seen.values()) this.inc(labels(s), s.earlierChunks + s.chunks);
    },
  });
  new Gauge({
    name: 'sluice_backfill_running',
    help: 'Whether a backfill of the table runs now (1) or not (0).',
    labelNames: ['pipeline', 'table'],
    registers: [registry],
    async collect() {
      await update();
      this.reset();
      for (const s of seen.values()) this.set(labels(s), s.running ? 1 : 0);
    },
  });
}
