import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { killHard, spawnSluice } from '@sluice/cli';
import { consume, sleep } from '@sluice/core';
import { EnrollmentProgressed, enrollmentProjection, enrollmentsTopic } from '@sluice/example-enrollments';
import { createLogTransport, createSqliteInbox, createSqliteOutbox, openDatabase } from '@sluice/sqlite';
import { type BenchResult, percentile } from './report.js';

const now = () => performance.timeOrigin + performance.now();

/**
 * End-to-end latency at a fixed offered rate: from the producer's commit to the consumer's handler commit,
 * with the relay in its own process (as deployed) and producer and consumer in this one.
 */
export async function latencyBench(dir: string, rate = 1000, seconds = 10): Promise<BenchResult> {
  const paths = ['lat-app.db', 'lat-bus.db', 'lat-consumer.db'].map((f) => join(dir, f));
  for (const f of paths) for (const s of ['', '-wal', '-shm']) rmSync(f + s, { force: true });
  const [appPath, busPath, consumerPath] = paths as [string, string, string];
  const app = openDatabase(appPath);
  const outbox = createSqliteOutbox(app, { source: 'urn:service:bench', migrate: true });
  const bus = createLogTransport({ path: busPath });
  await bus.ensureTopic(enrollmentsTopic);
  const consumerDb = openDatabase(consumerPath);
  const committedAt = new Map<string, number>();
  const latencies: number[] = [];
  const consumer = consume({
    transport: bus,
    group: 'bench',
    inbox: createSqliteInbox(consumerDb, { migrate: true }),
    handlers: enrollmentProjection(consumerDb),
    onOutcome: (o) => {
      if (o.kind !== 'applied') return;
      const t = committedAt.get(o.event.id);
      if (t !== undefined) latencies.push(now() - t);
    },
  });
  const relay = await spawnSluice([
    'relay',
    '--db',
    appPath,
    '--log',
    busPath,
    '--contracts',
    import.meta.resolve('@sluice/example-enrollments'),
  ]);
  const keys = Array.from({ length: 500 }, () => crypto.randomUUID());
  const total = rate * seconds;
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    else if (i % 50 === 0) await new Promise((r) => setImmediate(r));
    const r = outbox.append(app, EnrollmentProgressed, {
      enrollmentId: keys[i % keys.length]!,
      progress: i % 101,
    });
    committedAt.set(r.id, now());
  }
  const offeredSeconds = (performance.now() - t0) / 1000;
  const deadline = Date.now() + 30_000;
  while (latencies.length < total && Date.now() < deadline) await sleep(20);
  await killHard(relay);
  await consumer.stop();
  await bus.close();
  app.close();
  consumerDb.close();
  return {
    name: `latency-${rate}`,
    description: `end to end (commit -> handler commit) at ${rate} events/s offered for ${seconds} s; relay in a child process`,
    figures: {
      'offered events/s (achieved)': Math.round(total / offeredSeconds),
      'delivered events': latencies.length,
      'p50 ms': percentile(latencies, 50),
      'p95 ms': percentile(latencies, 95),
      'p99 ms': percentile(latencies, 99),
      'max ms': percentile(latencies, 100),
    },
  };
}
