import type { BenchResult } from '../report.js';
import { openPool } from './open-pool.js';
import { drainWithPeerListener } from './peer-drain.js';
import type { PeerConcurrency } from './peer-outbox.js';
import { postgresUrl } from './postgres-url.js';
import { drainWithSluiceRelays } from './sluice-drain.js';

/**
 * Drain rate on PostgreSQL: `events` queued outbox events over `keys` keys, then the relays started and timed
 * until all are delivered. Sluice with one and with two `sluice relay` processes (distinct owners, same schema,
 * same log file) until its outbox is empty; pg-transactional-outbox's replication listener, in three
 * configurations, until every message is handled and marked processed or its time limit (its per-message
 * transactions make 100k take minutes, so its rate is measured over the first `peerLimitMs` and the figures
 * say how many were left).
 */
export async function postgresDrainBench(
  dir: string,
  events = 100_000,
  keys = 5_000,
  peerLimitMs = 15_000,
): Promise<BenchResult> {
  const url = postgresUrl();
  const pool = openPool(url, 4);
  try {
    const one = await drainWithSluiceRelays(dir, pool, url, 1, events, keys);
    const two = await drainWithSluiceRelays(dir, pool, url, 2, events, keys);
    const peers: [string, PeerConcurrency, number][] = [
      ['peer segment-mutex', 'segment-mutex', peerLimitMs],
      ['peer mutex (its default)', 'mutex', peerLimitMs * 0.7],
      ['peer semaphore(10)', 'semaphore', peerLimitMs * 0.7],
    ];
    const figures: Record<string, number> = {
      'sluice 1 relay, events/s': Math.round(one.rate),
      'sluice 1 relay, seconds': one.seconds,
      'sluice 1 relay, events in log': one.inLog,
      'sluice 2 relays, events/s': Math.round(two.rate),
      'sluice 2 relays, seconds': two.seconds,
      'sluice 2 relays, events in log': two.inLog,
      'RATIO sluice 2 relays/1 relay': two.rate / one.rate,
    };
    const notes: string[] = [];
    for (const [name, concurrency, limit] of peers) {
      const m = await drainWithPeerListener(dir, pool, url, concurrency, events, keys, limit);
      figures[`${name}, events/s`] = Math.round(m.rate);
      figures[`${name}, seconds measured`] = m.seconds;
      figures[`${name}, left unprocessed`] = m.left;
      figures[`${name}, events in log`] = m.inLog;
      figures[`${name}, mean log batch`] = m.meanBatch;
      figures[`${name}, errors logged`] = m.errors.logged;
      figures[`${name}, warnings logged`] = m.errors.warned;
      figures[`${name}, unhandled rejections/exceptions`] = m.errors.unhandled;
      figures[`RATIO sluice 1 relay/${name}`] = one.rate / m.rate;
      for (const sample of m.errors.samples) notes.push(`${name} error: ${sample}`);
      if (m.crashed) notes.push(`${name}: the listener process ${m.crashed}`);
      if (m.left > 0) {
        notes.push(
          `${name}: stopped after ${m.seconds.toFixed(1)} s with ${m.left.toLocaleString('en-US')} of ${events.toLocaleString('en-US')} not yet processed; all ${events.toLocaleString('en-US')} would take about ${(events / m.rate).toFixed(0)} s at this rate`,
        );
      }
    }
    return {
      name: 'pg-drain',
      description: `${events.toLocaleString('en-US')} queued outbox events over ${keys.toLocaleString('en-US')} keys -> embedded log; Sluice relays (batches of 1000) vs pg-transactional-outbox's logical-replication listener`,
      figures,
      notes: [
        'sluice: `sluice relay` child processes, timed from the first one ready until the outbox table is empty (all published and acknowledged); events in log counted afterwards',
        'peer: initializeReplicationMessageListener (logical replication, pgoutput) in a child process, each message handed to a handler in its own transaction (SELECT ... FOR NO KEY UPDATE, handler, UPDATE processed_at, COMMIT); timed until processed_at is set on all messages',
        'peer handler: publishes the message to the same embedded log transport as Sluice (batched across concurrent handler calls: mean log batch) and counts it',
        'peer concurrency: segment-mutex with segment = event key (per-key order, as Sluice; the configuration used for latency), mutex (its default: one message at a time, commit order), semaphore(10) (10 at once, no order: its fastest setting that is safe under a backlog; 10 = its handler pool size)',
        ...notes,
      ],
    };
  } finally {
    await pool.end();
  }
}
