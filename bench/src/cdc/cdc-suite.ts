import type { BenchResult } from '../report.js';
import { postgresCdcBench } from './postgres-cdc.bench.js';
import { postgresQueryBench } from './postgres-query.bench.js';

/**
 * `npm run bench -- cdc`: change data capture (PostgreSQL WAL; MariaDB to come) and query-based liberation
 * (PostgreSQL) throughput and latency.
 */
export const cdcSuite: readonly ((dir: string) => Promise<BenchResult>)[] = [
  (dir) => postgresCdcBench(dir),
  (dir) => postgresQueryBench(dir),
];
