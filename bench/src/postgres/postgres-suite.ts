import type { BenchResult } from '../report.js';
import { postgresAppendBench } from './postgres-append.bench.js';
import { postgresDrainBench } from './postgres-drain.bench.js';
import { postgresLatencyBench } from './postgres-latency.bench.js';

/**
 * `npm run bench -- postgres`: Sluice on PostgreSQL against a hand-written outbox INSERT and against
 * pg-transactional-outbox, on one server (SLUICE_TEST_PG_URL, or started with scripts/services), each
 * benchmark in fresh schemas dropped afterwards.
 */
export const postgresSuite: readonly ((dir: string) => Promise<BenchResult>)[] = [
  () => postgresAppendBench(1, true),
  () => postgresAppendBench(8),
  (dir) => postgresDrainBench(dir),
  (dir) => postgresLatencyBench(dir, 1000),
  (dir) => postgresLatencyBench(dir, 5000),
];
