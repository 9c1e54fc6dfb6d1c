import { latencyBench } from '../latency.bench.js';
import type { BenchResult } from '../report.js';
import type { BenchTarget } from './bench-target.js';
import { kafkaTarget } from './kafka-target.js';
import { natsTarget } from './nats-target.js';
import { redisTarget } from './redis-target.js';
import { transportThroughputBench } from './transport-throughput.bench.js';

const all: readonly BenchTarget[] = [natsTarget, redisTarget, kafkaTarget];
/** `SLUICE_BENCH_TARGETS=kafka,redis` runs only those targets (default: all). */
const only = process.env['SLUICE_BENCH_TARGETS']?.split(',');
const targets = only === undefined ? all : all.filter((t) => only.includes(t.name));

/** Runs `bench` with the target's environment set (the latency bench's processes inherit it). */
function withEnv(target: BenchTarget, bench: () => Promise<BenchResult>): () => Promise<BenchResult> {
  return async () => {
    const saved = new Map(Object.keys(target.env ?? {}).map((k) => [k, process.env[k]]));
    Object.assign(process.env, target.env);
    try {
      return await bench();
    } finally {
      for (const [k, v] of saved) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  };
}

/**
 * `npm run bench -- transports`: for NATS JetStream, Redis Streams and Kafka (servers of scripts/services,
 * started if needed), Sluice's publish and consume rates as ratios to the raw client in the same run, and
 * end-to-end latency at 1,000 events/s.
 */
export const transportsSuite: readonly ((dir: string) => Promise<BenchResult>)[] = [
  ...targets.flatMap((target) => [
    (dir: string) => withEnv(target, () => transportThroughputBench(target, dir))(),
    (dir: string) =>
      withEnv(target, () =>
        latencyBench(dir, 1000, 10, 2, { kind: target.kind, url: target.url(), label: target.name }),
      )(),
  ]),
];
