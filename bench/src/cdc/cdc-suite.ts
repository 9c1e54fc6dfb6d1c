import type { BenchResult } from '../report.js';
import { mariadbCdcBench } from './mariadb-cdc.bench.js';
import { postgresBackfillBench } from './postgres-backfill.bench.js';
import { postgresCdcBench } from './postgres-cdc.bench.js';
import { postgresQueryBench } from './postgres-query.bench.js';

/**
 * `npm run bench -- cdc`: change data capture throughput and latency (PostgreSQL's WAL, MariaDB's binlog),
 * query-based liberation (PostgreSQL), and a backfill of a 1,000,000-row table.
 */
export const cdcSuite: readonly ((dir: string) => Promise<BenchResult>)[] = [
  (dir) => postgresCdcBench(dir),
  (dir) => mariadbCdcBench(dir),
  (dir) => postgresQueryBench(dir),
  (dir) => postgresBackfillBench(dir),
];
