import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

/** One benchmark's figures: throughputs, latency percentiles and ratios against a baseline measured in the same run. */
export interface BenchResult {
  readonly name: string;
  readonly description: string;
  readonly figures: Record<string, number>;
  readonly notes?: readonly string[];
}

export function printResult(r: BenchResult): void {
  console.log(`\n== ${r.name}: ${r.description}`);
  for (const [k, v] of Object.entries(r.figures)) console.log(`  ${k.padEnd(44)} ${format(v)}`);
  for (const n of r.notes ?? []) console.log(`  note: ${n}`);
}

function format(v: number): string {
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return v.toFixed(Math.abs(v) < 10 ? 3 : 1);
}

/** Writes results as JSON under bench/results/, named by suite and time. */
export function writeResults(suite: string, results: readonly BenchResult[]): string {
  const dir = join(import.meta.dirname, '..', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replaceAll(':', '-').replace(/\..*/, '');
  const file = join(dir, `${suite}-${stamp}.json`);
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        suite,
        time: new Date().toISOString(),
        node: process.version,
        cpus: cpus().length,
        cpu: cpus()[0]?.model,
        results,
      },
      null,
      2,
    )}\n`,
  );
  return file;
}

export { percentile } from '@sluice/cli';
