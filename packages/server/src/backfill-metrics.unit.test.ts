import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { registerBackfillMetrics } from './backfill-metrics.js';
import type { PipelineSnapshot } from './service-metrics.js';

describe('backfill metrics', () => {
  it('count across backfills and pipeline restarts without going down; running is 1 only while one runs', async () => {
    const registry = new Registry();
    let details: Record<string, unknown> = {};
    const snapshot = async (): Promise<PipelineSnapshot[]> => [
      { name: 'p', kind: 'changes', up: true, ready: true, details },
    ];
    registerBackfillMetrics(registry, snapshot);
    const value = async (name: string) => {
      const text = await registry.metrics();
      const m = new RegExp(`^${name}\\{pipeline="p",table="s.t"\\} (\\d+)$`, 'm').exec(text);
      return m === null ? undefined : Number(m[1]);
    };
    assert.equal(await value('sluice_backfill_rows_total'), undefined, 'no series before any backfill');

    const t = (rows: number, chunks: number) => [{ table: 's.t', rows, chunks }];
    details = { backfill: { since: 'a', active: { table: 's.t' }, tables: t(20, 2) } };
    assert.equal(await value('sluice_backfill_rows_total'), 20);
    assert.equal(await value('sluice_backfill_chunks_total'), 2);
    assert.equal(await value('sluice_backfill_running'), 1);

    details = { backfill: { since: 'a', active: undefined, tables: t(25, 3) } };
    assert.equal(await value('sluice_backfill_rows_total'), 25);
    assert.equal(await value('sluice_backfill_running'), 0);

    details = {}; // the pipeline is down: the counts stay, nothing runs
    assert.equal(await value('sluice_backfill_rows_total'), 25);
    assert.equal(await value('sluice_backfill_running'), 0);

    // Restarted: a new source counts from zero again; the counters add it to what the old one counted.
    details = { backfill: { since: 'b', active: { table: 's.t' }, tables: t(10, 1) } };
    assert.equal(await value('sluice_backfill_rows_total'), 35);
    assert.equal(await value('sluice_backfill_chunks_total'), 4);
    assert.equal(await value('sluice_backfill_running'), 1);
  });
});
