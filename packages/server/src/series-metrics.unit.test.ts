import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { SeriesCounter } from './series-counter.js';
import { SeriesHistogram } from './series-histogram.js';

/** The exposition lines of one metric, its name replaced so two registries' outputs compare. */
async function lines(registry: Registry, name: string): Promise<string[]> {
  return (await registry.metrics())
    .split('\n')
    .filter((l) => l.includes(name))
    .map((l) => l.replaceAll(name, 'm'));
}

describe('SeriesHistogram and SeriesCounter expose what prom-client would', () => {
  const buckets = [0.001, 0.01, 0.1, 1];
  const values = [0, 0.0005, 0.001, 0.0011, 0.05, 0.1, 0.7, 1, 3, 42, 0.00999];

  it('a histogram: same buckets (cumulative, le inclusive), sum and count, per series', async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const reference = new Histogram({
      name: 'ref_seconds',
      help: 'h',
      labelNames: ['p', 'g'],
      buckets,
      registers: [theirs],
    });
    const fast = new SeriesHistogram({
      name: 'fast_seconds',
      help: 'h',
      labelNames: ['p', 'g'],
      buckets,
      registers: [ours],
    });
    const a = fast.series({ p: 'a', g: 'x' });
    const b = fast.series({ g: 'y', p: 'b' });
    assert.equal(fast.series({ g: 'x', p: 'a' }), a, 'the same labels in another order are the same series');
    for (const v of values) {
      reference.observe({ p: 'a', g: 'x' }, v);
      a.observe(v);
    }
    reference.observe({ p: 'b', g: 'y' }, 0.02);
    b.observe(0.02);
    assert.deepEqual(await lines(ours, 'fast_seconds'), await lines(theirs, 'ref_seconds'));
    assert.ok((await lines(ours, 'fast_seconds')).includes('m_count{p="a",g="x"} 11'));
  });

  it('a counter: series at zero once created, increments, reset to zero', async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const reference = new Counter({ name: 'ref_total', help: 'c', labelNames: ['o'], registers: [theirs] });
    const fast = new SeriesCounter({ name: 'fast_total', help: 'c', labelNames: ['o'], registers: [ours] });
    const applied = fast.series({ o: 'applied' });
    fast.series({ o: 'retried' });
    reference.inc({ o: 'applied' }, 0);
    reference.inc({ o: 'retried' }, 0);
    for (let i = 0; i < 5; i++) {
      applied.inc();
      reference.inc({ o: 'applied' });
    }
    applied.inc(10);
    reference.inc({ o: 'applied' }, 10);
    assert.deepEqual(await lines(ours, 'fast_total'), await lines(theirs, 'ref_total'));
    assert.ok((await lines(ours, 'fast_total')).includes('m{o="applied"} 15'));
    fast.reset();
    assert.ok((await lines(ours, 'fast_total')).includes('m{o="applied"} 0'));
  });
});
