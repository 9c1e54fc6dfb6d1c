import type pg from 'pg';
import { percentile } from '../report.js';

/** A statement and parameters as a variant sends them. */
export interface SampleStatement {
  readonly sql: string;
  readonly params: readonly unknown[];
}

/**
 * Server-side cost of one statement: median planning and execution time (ms) over `iterations` runs of
 * `EXPLAIN (ANALYZE, FORMAT JSON)`, each in its own transaction, rolled back (nothing is kept, nothing is
 * notified). `fresh` gives the parameters of each run (a new key and id each time, as in the benchmark).
 */
export async function profileStatement(
  client: pg.PoolClient,
  fresh: () => Promise<SampleStatement>,
  iterations = 100,
): Promise<{ planningMs: number; executionMs: number }> {
  const planning: number[] = [];
  const execution: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const { sql, params } = await fresh();
    await client.query('BEGIN');
    try {
      const { rows } = await client.query<{
        'QUERY PLAN': { 'Planning Time': number; 'Execution Time': number }[];
      }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, [...params]);
      const plan = rows[0]!['QUERY PLAN'][0]!;
      planning.push(plan['Planning Time']);
      execution.push(plan['Execution Time']);
    } finally {
      await client.query('ROLLBACK');
    }
  }
  return { planningMs: percentile(planning, 50), executionMs: percentile(execution, 50) };
}
