import { fork } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createConsumer, createTransport, type TransportConfig } from '@sluice/core';
import { sleep } from '@sluice/core/adapter';
import { enrollmentProjection, enrollmentsTopic } from '@sluice/example-enrollments';
import { killHard, spawnSluice } from '@sluice/fault-tests';
import { createSqliteInbox, migrate, openDatabase } from '@sluice/sqlite';
import { type BenchResult, percentile } from './report.js';

const now = () => performance.timeOrigin + performance.now();

/** A broker for {@link latencyBench}; the embedded log when absent. */
export interface LatencyBus {
  readonly kind: 'nats' | 'redis' | 'kafka';
  readonly url: string;
  /** Names the result (`<label>-latency-<rate>`); default `kind`. */
  readonly label?: string;
}

/**
 * End-to-end latency at a fixed offered rate: from the producer's commit to the consumer's handler commit,
 * with the producer, the relay and the consumer each in its own process, as deployed. The bus is the embedded
 * log, or a broker (in a namespace of its own).
 */
export async function latencyBench(
  dir: string,
  rate = 1000,
  seconds = 10,
  warmupSeconds = 2,
  broker?: LatencyBus,
): Promise<BenchResult> {
  const paths = ['lat-app.db', 'lat-bus.db', 'lat-consumer.db'].map((f) => join(dir, f));
  for (const f of paths) for (const s of ['', '-wal', '-shm']) rmSync(f + s, { force: true });
  const [appPath, busPath, consumerPath] = paths as [string, string, string];
  migrate(openDatabase(appPath));
  const namespace = `bench-${Date.now().toString(36)}`;
  const config: TransportConfig =
    broker === undefined
      ? { kind: 'embedded', path: busPath }
      : { kind: broker.kind, url: broker.url, namespace };
  const busArgs =
    broker === undefined ? ['--log', busPath] : ['--transport', broker.url, '--namespace', namespace];
  const bus = await createTransport(config);
  await bus.ensureTopic(enrollmentsTopic);
  const consumerDb = openDatabase(consumerPath);
  const committedAt = new Map<string, number>();
  const appliedAt = new Map<string, number>();
  const consumer = createConsumer({
    transport: bus,
    group: 'bench',
    inbox: createSqliteInbox(consumerDb, { migrate: true }),
    handlers: enrollmentProjection(consumerDb),
    onOutcome: (o) => {
      if (o.kind === 'applied') appliedAt.set(o.event.id, now());
    },
  });
  const relay = await spawnSluice([
    'relay',
    '--db',
    appPath,
    ...busArgs,
    '--contracts',
    import.meta.resolve('@sluice/example-enrollments'),
  ]);
  const producer = fork(
    fileURLToPath(new URL('./producer-process.ts', import.meta.url)),
    [appPath, String(rate), String(seconds + warmupSeconds)],
    {
      execArgv: process.execArgv,
    },
  );
  const producedSeconds = await new Promise<number>((resolve, reject) => {
    producer.on('message', (m: { committed: [string, number][]; done?: number }) => {
      for (const [id, t] of m.committed) committedAt.set(id, t);
      if (m.done !== undefined) resolve(m.done);
    });
    producer.once('exit', (code) =>
      code === 0 ? undefined : reject(new Error(`producer exited with ${code}`)),
    );
  });
  const total = rate * (seconds + warmupSeconds);
  const deadline = Date.now() + 30_000;
  while (appliedAt.size < total && Date.now() < deadline) await sleep(20);
  await killHard(relay);
  await consumer.stop();
  await bus.close();
  consumerDb.close();
  const latencies: number[] = [];
  const warmupLatencies: number[] = [];
  const first = Math.min(...committedAt.values());
  let lost = 0;
  for (const [id, t] of committedAt) {
    const applied = appliedAt.get(id);
    if (applied === undefined) lost++;
    else if (t - first < warmupSeconds * 1000) warmupLatencies.push(applied - t);
    else latencies.push(applied - t);
  }
  return {
    name: broker === undefined ? `latency-${rate}` : `${broker.label ?? broker.kind}-latency-${rate}`,
    description: `end to end (SQLite producer commit -> ${broker === undefined ? 'embedded log' : `${broker.kind} at ${broker.url}`} -> SQLite consumer handler commit) at ${rate} events/s offered, measured for ${seconds} s after ${warmupSeconds} s of warm-up; producer, relay and consumer in separate processes`,
    figures: {
      'offered events/s (achieved)': Math.round(total / producedSeconds),
      'measured events': latencies.length,
      'events not delivered': lost,
      'p50 ms': percentile(latencies, 50),
      'p95 ms': percentile(latencies, 95),
      'p99 ms': percentile(latencies, 99),
      'max ms': percentile(latencies, 100),
      'warm-up p99 ms (not counted above)': percentile(warmupLatencies, 99),
    },
  };
}
