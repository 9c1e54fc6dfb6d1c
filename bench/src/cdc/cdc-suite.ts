import type { BenchResult } from '../report.js';
import { postgresCdcBench } from './postgres-cdc.bench.js';

/** `npm run bench -- cdc`: change data capture throughput and latency (PostgreSQL; MariaDB to come). */
export const cdcSuite: readonly ((dir: string) => Promise<BenchResult>)[] = [(dir) => postgresCdcBench(dir)];
