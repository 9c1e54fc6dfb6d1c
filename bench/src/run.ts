import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendBench } from './append.bench.js';
import { drainBench } from './drain.bench.js';
import { latencyBench } from './latency.bench.js';
import { type BenchResult, printResult, writeResults } from './report.js';

/**
 * `npm run bench [-- embedded]`: the embedded-default suite. Each benchmark prints its figures with a baseline
 * measured in the same run, and the suite writes JSON to bench/results/.
 */
const suites: Record<string, (dir: string) => Promise<BenchResult[]>> = {
  embedded: async (dir) => [
    await appendBench(dir, 'enroll', 'FULL'),
    await appendBench(dir, 'insert-only', 'FULL'),
    await appendBench(dir, 'enroll', 'NORMAL'),
    await drainBench(dir),
    await latencyBench(dir, 1000, 30),
  ],
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = wanted.length > 0 ? wanted : Object.keys(suites);
for (const name of names) {
  const suite = suites[name];
  if (!suite) {
    console.error(`unknown bench suite ${name}; available: ${Object.keys(suites).join(', ')}`);
    process.exit(2);
  }
  const dir = mkdtempSync(join(tmpdir(), `sluice-bench-${name}-`));
  try {
    const results = await suite(dir);
    for (const r of results) printResult(r);
    console.log(`\nwrote ${writeResults(name, results)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
