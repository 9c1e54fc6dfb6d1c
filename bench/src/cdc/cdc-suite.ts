import type { BenchResult } from '../report.js';
import { mariadbCdcBench } from './mariadb-cdc.bench.js';
import { postgresCdcBench } from './postgres-cdc.bench.js';

/** `npm run bench -- cdc`: change data capture throughput and latency (PostgreSQL's WAL, MariaDB's binlog). */
export const cdcSuite: readonly ((dir: string) => Promise<BenchResult>)[] = [
  (dir) => postgresCdcBench(dir),
  (dir) => mariadbCdcBench(dir),
];
