import { createRequire } from 'node:module';
import { latencyBench } from '../latency.bench.js';
import type { BenchResult } from '../report.js';
import type { BenchTarget } from './bench-target.js';
import { kafkaClientsComparison } from './kafka-clients-comparison.js';
import { kafkaNativeTarget, kafkaTarget } from './kafka-target.js';
import { natsTarget } from './nats-target.js';
import { redisTarget } from './redis-target.js';
import { transportThroughputBench } from './transport-throughput.bench.js';

/** librdkafka is an optional peer dependency of `@sluice/kafka`: measured where it is installed. */
const nativeInstalled = (() => {
  try {
    createRequire(createRequire(import.meta.url).resolve('@sluice/kafka')).resolve(
      '@confluentinc/kafka-javascript',
    );
    return true;
  } catch {
    return false;
  }
})();
const all: readonly BenchTarget[] = [
  natsTarget,
  redisTarget,
  kafkaTarget,
  ...(nativeInstalled ? [kafkaNativeTarget] : []),
];
/** `SLUICE_BENCH_TARGETS=kafka,kafka-native` runs only those targets (default: all). */
const only = process.env['SLUICE_BENCH_TARGETS']?.split(',');
const targets = only === undefined ? all : all.filter((t) => only.includes(t.name));

/** Results of this run by name, for the comparison of the Kafka clients at the end. */
const results = new Map<string, BenchResult>();

/** Runs `bench` with the target's environment set (the latency bench's processes inherit it). */
function withEnv(target: BenchTarget, bench: () => Promise<BenchResult>): () => Promise<BenchResult> {
  return async () => {
    const saved = new Map(Object.keys(target.env ?? {}).map((k) => [k, process.env[k]]));
    Object.assign(process.env, target.env);
    try {
      const result = await bench();
      results.set(result.name, result);
      return result;
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
 * end-to-end latency at 1,000 events/s. Kafka runs twice where librdkafka is installed, on each client
 * library of the transport (`@platformatic/kafka`, then librdkafka), and a last result compares the two.
 */
export const transportsSuite: readonly ((dir: string) => Promise<BenchResult>)[] = [
  ...targets.flatMap((target) => [
    (dir: string) => withEnv(target, () => transportThroughputBench(target, dir))(),
    (dir: string) =>
      withEnv(target, () =>
        latencyBench(dir, 1000, 10, 2, { kind: target.kind, url: target.url(), label: target.name }),
      )(),
  ]),
  ...(targets.some((t) => t.name === 'kafka-native') && targets.some((t) => t.name === 'kafka')
    ? [async () => kafkaClientsComparison(results)]
    : []),
];
