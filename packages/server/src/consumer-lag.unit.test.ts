import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Logger } from '@sluice/core';
import type { ConsumerLag } from './consumer-lag.js';
import type { PipelineRunner } from './pipeline-runner.js';
import { PipelineSupervisor } from './pipeline-supervisor.js';
import { ServiceMetrics } from './service-metrics.js';

const LAG: ConsumerLag = {
  group: 'g',
  total: 7,
  at: new Date(0).toISOString(),
  topics: [
    {
      topic: 'orders',
      total: 7,
      partitions: [
        { partition: 0, committed: '3', end: '8', lag: 5 },
        { partition: 1, committed: null, end: '2', lag: 2 },
      ],
    },
  ],
};

/** A supervisor running one consumer runner whose `lag()` is `lag`; `debug` collects debug logs. */
async function running(lag: () => Promise<ConsumerLag>) {
  const debug: Record<string, unknown>[] = [];
  let lagCalls = 0;
  const logger: Logger = {
    debug: (_message, fields) => debug.push(fields ?? {}),
    info() {},
    warn() {},
    error() {},
  };
  let finish: () => void = () => undefined;
  const runner: PipelineRunner = {
    done: new Promise<void>((resolve) => {
      finish = resolve;
    }),
    stop: async () => finish(),
    pause: async () => undefined,
    resume: async () => undefined,
    report: async () => ({ ready: true, details: { group: 'g' } }),
    lag: () => {
      lagCalls++;
      return lag();
    },
  };
  const metrics = new ServiceMetrics(async () => []);
  const supervisor = new PipelineSupervisor({
    name: 'orders-consumer',
    kind: 'consumer',
    open: async () => runner,
    logger,
    metrics,
    restartDelayMs: 1000,
  });
  supervisor.start();
  for (let i = 0; i < 100 && (await supervisor.status()).state !== 'running'; i++)
    await new Promise((r) => setTimeout(r, 5));
  return { supervisor, debug, lagCalls: () => lagCalls };
}

describe('consumer lag in the service', () => {
  it('a status reads the lag only when asked (not for /readyz)', async () => {
    const s = await running(async () => LAG);
    assert.equal((await s.supervisor.status()).lag, undefined);
    assert.equal(s.lagCalls(), 0);
    assert.deepEqual((await s.supervisor.status({ lag: true })).lag, LAG);
    assert.equal(s.lagCalls(), 1);
    await s.supervisor.stop();
  });

  it('a lag read that fails or hangs is left out of the status and logged at debug', async () => {
    const failing = await running(async () => {
      throw Object.assign(new Error('bus away'), { code: 'SLUICE_BROKER_UNAVAILABLE' });
    });
    const status = await failing.supervisor.status({ lag: true });
    assert.equal(status.lag, undefined);
    assert.equal(status.ready, true, 'the lag does not make the pipeline unready');
    assert.equal(failing.debug[0]?.['code'], 'SLUICE_BROKER_UNAVAILABLE');
    await failing.supervisor.stop();

    const hanging = await running(() => new Promise(() => undefined));
    const t0 = Date.now();
    assert.equal((await hanging.supervisor.status({ lag: true })).lag, undefined);
    const ms = Date.now() - t0;
    assert.ok(ms >= 1500 && ms < 4000, `gave up after ${ms} ms`);
    assert.match(String(hanging.debug[0]?.['error']), /did not answer within/);
    await hanging.supervisor.stop();
  });

  it('sluice_consumer_lag_events has one series per partition; none for a pipeline without lag', async () => {
    const metrics = new ServiceMetrics(async () => [
      { name: 'orders-consumer', kind: 'consumer', up: true, ready: true, details: {}, lag: LAG },
      { name: 'other-consumer', kind: 'consumer', up: true, ready: true, details: {} },
    ]);
    const lines = (await metrics.registry.metrics())
      .split('\n')
      .filter((l) => l.startsWith('sluice_consumer_lag_events{'));
    assert.deepEqual(lines, [
      'sluice_consumer_lag_events{pipeline="orders-consumer",group="g",topic="orders",partition="0"} 5',
      'sluice_consumer_lag_events{pipeline="orders-consumer",group="g",topic="orders",partition="1"} 2',
    ]);
  });
});
