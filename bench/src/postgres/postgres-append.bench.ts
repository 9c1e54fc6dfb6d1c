import { encodeEnvelope } from '@sluice/core';
import { envelopeOf, prepareEvent } from '@sluice/core/adapter';
import { EnrollmentCreated } from '@sluice/example-enrollments';
import type pg from 'pg';
import { type BenchResult, percentile } from '../report.js';
import { type AppendVariant, createAppendVariants, enrollmentData } from './append-variants.js';
import { BENCH_SOURCE } from './bench-source.js';
import { openPool } from './open-pool.js';
import { postgresUrl } from './postgres-url.js';
import { profileStatement } from './statement-profile.js';
import { sampleWaits, waitShare } from './wait-sampler.js';

/** One variant's totals over all rounds. */
interface Tally {
  transactions: number;
  ms: number;
  readonly latencies: number[];
  /** Of each transaction: the write statement alone, and the COMMIT alone. */
  readonly writes: number[];
  readonly commits: number[];
  /** Transactions per second of each round. */
  readonly rounds: number[];
  /** What the backends waited on (pg_stat_activity samples). */
  readonly waits: Map<string, number>;
}

const newTally = (): Tally => ({
  transactions: 0,
  ms: 0,
  latencies: [],
  writes: [],
  commits: [],
  rounds: [],
  waits: new Map(),
});

/**
 * Outbox append cost on PostgreSQL: transactions per second of `BEGIN; <write one event>; COMMIT` on
 * `concurrency` connections, for Sluice's `append`, the same row written by a hand-written INSERT, and
 * pg-transactional-outbox's message storage, plus two diagnosis variants (the INSERT with Sluice's sequence
 * upsert, with Sluice's pg_notify). Fixed-duration runs in rotating order, round after round, so drift on this
 * shared machine hits every variant alike; ratios are medians of the per-round ratios.
 */
export async function postgresAppendBench(
  concurrency: number,
  profile = false,
  rounds = 4,
  roundMs = 1200,
  warmupMs = 500,
): Promise<BenchResult> {
  const url = postgresUrl();
  const pool = openPool(url, concurrency + 2);
  const variants = await createAppendVariants(pool, url);
  const clients: pg.PoolClient[] = [];
  try {
    for (let i = 0; i < concurrency; i++) clients.push(await pool.connect());
    const list = [
      variants.sluice,
      variants.handwritten,
      variants.peer,
      variants.withSequence,
      variants.withNotify,
    ] as const;
    const tallies = list.map(newTally);
    let n = 0;
    const next = () => n++;
    const discard = newTally();
    for (const v of list) await runFor(v, clients, warmupMs, next, discard);
    const monitor = await pool.connect();
    clients.push(monitor); // released with them
    const pids = await Promise.all(
      clients
        .slice(0, concurrency)
        .map(async (c) => (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid),
    );
    const sampler = { monitor, pids };
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < list.length; k++) {
        const i = (r + k) % list.length;
        const t = tallies[i]!;
        const { transactions, ms } = await runFor(
          list[i]!,
          clients.slice(0, concurrency),
          roundMs,
          next,
          t,
          sampler,
        );
        t.transactions += transactions;
        t.ms += ms;
        t.rounds.push((transactions / ms) * 1000);
      }
    }
    const [sluice, hand, peer, seq, notify] = tallies as [Tally, Tally, Tally, Tally, Tally];
    const tps = (t: Tally) => Math.round((t.transactions / t.ms) * 1000);
    const ratio = (a: Tally, b: Tally) =>
      percentile(
        a.rounds.map((x, i) => x / b.rounds[i]!),
        50,
      );
    const figures: Record<string, number> = {};
    for (const [name, t] of [
      ['sluice append', sluice],
      ['handwritten INSERT', hand],
      ['pg-transactional-outbox store', peer],
      ['diag: handwritten + sequence upsert', seq],
      ['diag: handwritten + pg_notify', notify],
    ] as const) {
      figures[`${name}, tx/s`] = tps(t);
      figures[`${name}, tx p50 ms`] = percentile(t.latencies, 50);
      figures[`${name}, tx p99 ms`] = percentile(t.latencies, 99);
      figures[`${name}, write stmt p50 ms`] = percentile(t.writes, 50);
      figures[`${name}, COMMIT p50 ms`] = percentile(t.commits, 50);
      figures[`${name}, % time waiting Lock:object`] = waitShare(t.waits, 'Lock:object');
    }
    figures['RATIO sluice/handwritten (median of rounds)'] = ratio(sluice, hand);
    figures['RATIO pg-transactional-outbox/handwritten (median)'] = ratio(peer, hand);
    figures['RATIO sluice/pg-transactional-outbox (median)'] = ratio(sluice, peer);
    figures['diag: +sequence/handwritten (median)'] = ratio(seq, hand);
    figures['diag: +pg_notify/handwritten (median)'] = ratio(notify, hand);
    figures['sluice JS per append (validate + envelope), us'] = jsCostMicros();
    if (profile) {
      // Server-side cost of each variant's write statement alone (EXPLAIN ANALYZE, rolled back).
      for (const [name, v] of [
        ['sluice append', variants.sluice],
        ['handwritten INSERT', variants.handwritten],
        ['pg-transactional-outbox store', variants.peer],
        ['diag: handwritten + sequence upsert', variants.withSequence],
        ['diag: handwritten + pg_notify', variants.withNotify],
      ] as const) {
        const p = await profileStatement(clients[0]!, () => v.sample(next()));
        figures[`server: ${name}, plan + exec p50 ms`] = p.planningMs + p.executionMs;
      }
    }
    figures['transactions per variant (min)'] = Math.min(...tallies.map((t) => t.transactions));
    return {
      name: `pg-append-c${concurrency}`,
      description: `BEGIN; <one outbox event>; COMMIT on ${concurrency} connection${concurrency > 1 ? 's' : ''}, ${rounds} rotating rounds of ${roundMs} ms per variant, each variant on its own table (fresh schema)`,
      figures,
      notes: [
        'handwritten INSERT: the same row (columns, values, CloudEvents JSON value) into the same table layout as Sluice, without sequence upsert, NOTIFY or contract validation; it and the diag rows run as named prepared statements, as Sluice runs its own',
        'no relay runs during this benchmark: Sluice appends NOTIFY only while a relay announces that it waits (relay_waiter), so here they do not; the diag +pg_notify row is what an always-notifying append costs',
        "pg-transactional-outbox store: its initializeMessageStorage() function in the caller's transaction (its table and publication from DatabaseSetup; no slot during this benchmark)",
        'diag rows: the handwritten INSERT plus one of the two extra things Sluice does in its one statement, to attribute the difference',
        '% time waiting Lock:object: share of pg_stat_activity samples (every 5 ms) in which a benchmark connection waited for the heavyweight lock PostgreSQL takes at COMMIT of a transaction that called pg_notify (held until its commit record is flushed, so notifying commits are serialized and miss group commit)',
        'server: plan + exec p50 ms: EXPLAIN (ANALYZE) of the write statement alone, rolled back (pg_stat_statements is not loaded on the shared server)',
      ],
    };
  } finally {
    for (const c of clients) c.release();
    await variants.close();
    await pool.end();
  }
}

/**
 * Runs `variant` on every client until `ms` has passed; adds each transaction's latency (and its write
 * statement's and COMMIT's) in ms to `into`.
 */
async function runFor(
  variant: AppendVariant,
  clients: readonly pg.PoolClient[],
  ms: number,
  next: () => number,
  into: Tally,
  sampler?: { monitor: pg.PoolClient; pids: readonly number[] },
): Promise<{ transactions: number; ms: number }> {
  const start = performance.now();
  const end = start + ms;
  let transactions = 0;
  await Promise.all([
    sampler && sampleWaits(sampler.monitor, sampler.pids, into.waits, () => performance.now() >= end),
    ...clients.map(async (client) => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await client.query('BEGIN');
        const t1 = performance.now();
        await variant.write(client, next());
        const t2 = performance.now();
        await client.query('COMMIT');
        const t3 = performance.now();
        into.latencies.push(t3 - t0);
        into.writes.push(t2 - t1);
        into.commits.push(t3 - t2);
        transactions++;
      }
    }),
  ]);
  return { transactions, ms: performance.now() - start };
}

/** Microseconds of JavaScript Sluice spends per append before SQL: contract validation, id, envelope. */
function jsCostMicros(iterations = 20_000): number {
  const data = Array.from({ length: iterations }, (_, n) => enrollmentData(n));
  const once = (i: number) =>
    encodeEnvelope(envelopeOf(prepareEvent(EnrollmentCreated, data[i]!), BENCH_SOURCE, 1));
  for (let i = 0; i < 2000; i++) once(i);
  const t = performance.now();
  for (let i = 0; i < iterations; i++) once(i);
  return ((performance.now() - t) * 1000) / iterations;
}
