import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendBench } from './append.bench.js';
import { cdcSuite } from './cdc/cdc-suite.js';
import { contractsBench } from './contracts/contracts.bench.js';
import { drainBench } from './drain.bench.js';
import { latencyBench } from './latency.bench.js';
import { observabilityBench } from './observability/observability.bench.js';
import { postgresSuite } from './postgres/postgres-suite.js';
import { type BenchResult, printResult, writeResults } from './report.js';
import { transportsSuite } from './transports/transports-suite.js';

type Bench = (dir: string) => Promise<BenchResult>;

/**
 * `npm run bench [-- embedded]`: the embedded-default suite. Each benchmark prints its figures with a baseline
 * measured in the same run, and the suite writes JSON to bench/results/. Every benchmark gets a fresh folder
 * and starts after the previous one's files are deleted and flushed (`sync`), so one benchmark's disk
 * write-back does not stall the next one's fsyncs.
 */
const suites: Record<string, Bench[]> = {
  embedded: [
    (dir) => latencyBench(dir, 1000, 30),
    (dir) => appendBench(dir, 'enroll', 'FULL'),
    (dir) => appendBench(dir, 'insert-only', 'FULL'),
    (dir) => appendBench(dir, 'enroll', 'NORMAL'),
    (dir) => drainBench(dir),
  ],
  postgres: [...postgresSuite],
  transports: [...transportsSuite],
  cdc: [...cdcSuite],
  // `sluice contracts check` over 500 contracts × 5 versions against their lock (CPU only; target < 2 s).
  contracts: [() => contractsBench(500, 5)],
  // `SLUICE_BENCH_EVENTS` and `SLUICE_BENCH_ROUNDS` shrink it while developing (default 100,000 events, 5 rounds).
  observability: [
    (dir) =>
      observabilityBench(
        dir,
        Number(process.env['SLUICE_BENCH_EVENTS'] ?? 100_000),
        1_000,
        Number(process.env['SLUICE_BENCH_ROUNDS'] ?? 5),
      ),
  ],
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
// Without a name: the suites that need no broker (`postgres` starts its server; `transports` needs three).
const names = wanted.length > 0 ? wanted : Object.keys(suites).filter((s) => s !== 'transports');
for (const name of names) {
  const suite = suites[name];
  if (!suite) {
    console.error(`unknown bench suite ${name}; available: ${Object.keys(suites).join(', ')}`);
    process.exit(2);
  }
  const results: BenchResult[] = [];
  for (const bench of suite) {
    const dir = mkdtempSync(join(tmpdir(), `sluice-bench-${name}-`));
    try {
      settle();
      const result = await bench(dir);
      printResult(result);
      results.push(result);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(`\nwrote ${writeResults(name, results)}`);
}

/** Flushes dirty pages to disk and pauses briefly, so the next benchmark starts from a quiet disk. */
function settle(): void {
  execFileSync('sync');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
}
