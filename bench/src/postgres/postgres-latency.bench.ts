import type { BenchResult } from '../report.js';
import type { LatencySummary } from './latency-figures.js';
import { openPool } from './open-pool.js';
import { measurePeerLatency } from './peer-latency.js';
import { postgresUrl } from './postgres-url.js';
import { measureSluiceLatency } from './sluice-latency.js';

/**
 * End-to-end latency on PostgreSQL at `rate` events/s offered, measured for `seconds` after `warmupSeconds`,
 * one pipeline after the other on the same server: Sluice (producer process -> outbox -> `sluice relay`
 * process -> embedded log -> consumer), with its consumer's inbox in PostgreSQL and then in SQLite, and
 * pg-transactional-outbox (producer process -> its outbox -> its replication listener -> handler publishing
 * to the embedded log).
 */
export async function postgresLatencyBench(
  dir: string,
  rate: number,
  seconds = 10,
  warmupSeconds = 2,
  connections = 8,
  waitMs = 5_000,
): Promise<BenchResult> {
  const url = postgresUrl();
  const pool = openPool(url, 4);
  const args = [rate, seconds, warmupSeconds, connections, waitMs] as const;
  try {
    const pgInbox = await measureSluiceLatency(dir, pool, url, 'postgres', ...args);
    const sqliteInbox = await measureSluiceLatency(dir, pool, url, 'sqlite', ...args);
    const peer = await measurePeerLatency(dir, pool, url, 'segment-mutex', ...args);
    const figures: Record<string, number> = {};
    const add = (prefix: string, s: LatencySummary, all = true) => {
      figures[`${prefix} p50 ms`] = s.p50;
      if (all) figures[`${prefix} p95 ms`] = s.p95;
      figures[`${prefix} p99 ms`] = s.p99;
      if (all) figures[`${prefix} max ms`] = s.max;
    };
    for (const [name, run] of [
      ['sluice (pg inbox)', pgInbox],
      ['sluice (sqlite inbox)', sqliteInbox],
    ] as const) {
      figures[`${name} offered events/s (achieved)`] = Math.round(run.offered);
      figures[`${name} delivered events/s`] = Math.round(run.delivered);
      figures[`${name} measured events`] = run.handler.measured;
      figures[`${name} not delivered`] = run.handler.notArrived;
      add(`${name} commit->log`, run.inLog, false);
      add(`${name} commit->handler`, run.handler);
      add(`${name} commit->inbox commit`, run.applied, false);
    }
    figures['peer offered events/s (achieved)'] = Math.round(peer.offered);
    figures['peer delivered events/s'] = Math.round(peer.delivered);
    figures['peer measured'] = peer.handler.measured;
    figures['peer not delivered'] = peer.handler.notArrived;
    add('peer commit->handler', peer.handler);
    add('peer commit->log', peer.inLog, false);
    figures['peer mean log batch'] = peer.meanBatch;
    figures['peer errors logged'] = peer.errors.logged;
    figures['peer warnings logged'] = peer.errors.warned;
    figures['peer unhandled rejections/exceptions'] = peer.errors.unhandled;
    figures['RATIO delivered/s sluice (pg inbox)/peer'] = pgInbox.delivered / peer.delivered;
    figures['RATIO delivered/s sluice (sqlite inbox)/peer'] = sqliteInbox.delivered / peer.delivered;
    figures['RATIO commit->log p50 peer/sluice'] = peer.inLog.p50 / pgInbox.inLog.p50;
    figures['RATIO commit->log p99 peer/sluice'] = peer.inLog.p99 / pgInbox.inLog.p99;
    figures['RATIO handler p50 peer/sluice (pg inbox)'] = peer.handler.p50 / pgInbox.handler.p50;
    figures['RATIO handler p99 peer/sluice (pg inbox)'] = peer.handler.p99 / pgInbox.handler.p99;
    figures['RATIO handler p50 peer/sluice (sqlite inbox)'] = peer.handler.p50 / sqliteInbox.handler.p50;
    figures['RATIO handler p99 peer/sluice (sqlite inbox)'] = peer.handler.p99 / sqliteInbox.handler.p99;
    const errorNotes = peer.errors.samples.map((s) => `peer ${s}`);
    if (peer.crashed) errorNotes.push(`peer: the listener process ${peer.crashed}`);
    if (peer.errors.samples.some((s) => s.includes('MESSAGE_NOT_FOUND'))) {
      errorNotes.push(
        "peer MESSAGE_NOT_FOUND: its listener received the insert from the WAL, but its handler transaction's SELECT ... FOR NO KEY UPDATE did not see the row yet (the producer's commit was flushed, so decodable, but not yet visible); it skips such a message and acknowledges its LSN, so the message is never handed to the handler (counted in 'peer not delivered')",
      );
    }
    return {
      name: `pg-latency-${rate}`,
      description: `commit -> handler at ${rate} events/s offered (producer process, ${connections} connections, one event per transaction), ${seconds} s measured after ${warmupSeconds} s warm-up`,
      figures,
      notes: [
        'sluice: producer appends (outbox.append in BEGIN/COMMIT) -> `sluice relay` process -> embedded log -> consume() here, inbox createPostgresInbox (same server) or createSqliteInbox (a file, synchronous=FULL); handler time on entry, inbox commit from onOutcome',
        'peer: producer stores messages (initializeMessageStorage in BEGIN/COMMIT) -> initializeReplicationMessageListener in a child process (segment-mutex, segment = key) -> handler (time on entry) publishing to the embedded log; it has no consumer/inbox hop, so compare its handler with sluice commit->log (the same point: the event is on the bus) and note sluice commit->handler includes one more hop',
        'commit->log: the log record timestamp (whole ms, taken at publish) minus the commit time',
        `the producer commits event i at i/rate for ${seconds + warmupSeconds} s and skips what it cannot commit in that window (achieved rate); events not delivered within ${waitMs / 1000} s after the last commit count with the time measurement stopped (a lower bound), so an overloaded pipeline is not flattered`,
        ...errorNotes,
      ],
    };
  } finally {
    await pool.end();
  }
}
