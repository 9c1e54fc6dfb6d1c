import { latencyBench } from '../latency.bench.js';
import type { BenchResult } from '../report.js';
import type { BenchTarget } from './bench-target.js';
import { kafkaTarget } from './kafka-target.js';
import { natsTarget } from './nats-target.js';
import { redisTarget } from './redis-target.js';
import { transportThroughputBench } from './transport-throughput.bench.js';

const targets: readonly BenchTarget[] = [natsTarget, redisTarget, kafkaTarget];

/**
 * `npm run bench -- transports`: for NATS JetStream, Redis Streams and Kafka (servers of scripts/services,
 * started if needed), Sluice's publish and consume rates as ratios to the raw client in the same run, and
 * end-to-end latency at 1,000 events/s.
 */
export const transportsSuite: readonly ((dir: string) => Promise<BenchResult>)[] = targets.flatMap(
  (target) => [
    (dir: string) => transportThroughputBench(target, dir),
    (dir: string) => latencyBench(dir, 1000, 10, 2, { kind: target.kind, url: target.url() }),
  ],
);
