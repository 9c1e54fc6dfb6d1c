import type { BenchResult } from '../report.js';
import { postgresBackfillBench } from './postgres-backfill.bench.js';
import { postgresCdcBench } from './postgres-cdc.bench.js';

/** `npm run bench -- cdc`: change data capture throughput and latency and backfill (PostgreSQL; MariaDB to come). */
export const cdcSuite: readonly ((dir: string) => Promise<BenchResult>)[] = [
  (dir) => postgresCdcBench(dir),
  (dir) => postgresBackfillBench(dir),
];
