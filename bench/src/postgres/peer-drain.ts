import { join } from 'node:path';
import { enrollmentsTopic } from '@sluice/example-enrollments';
import { createLogTransport } from '@sluice/sqlite';
import type pg from 'pg';
import { benchSchemaName } from './bench-schema.js';
import { countLogRecords } from './count-log-records.js';
import { fillPeerOutbox } from './fill-peer-outbox.js';
import { type PeerConcurrency, PeerOutbox } from './peer-outbox.js';
import type { DrainMeasurement } from './sluice-drain.js';
import { type PeerListenerResult, startPeerListener } from './start-peer-listener.js';
import { waitUntil } from './wait-until.js';

/**
 * Queues `events` messages in the peer's outbox (after creating its replication slot), then starts its
 * replication listener (in a child process) and times until every message is marked processed, or until
 * `limitMs` (then the rate is what was processed so far, and `left` says how many were not).
 */
export async function drainWithPeerListener(
  dir: string,
  pool: pg.Pool,
  url: string,
  concurrency: PeerConcurrency,
  events: number,
  keys: number,
  limitMs: number,
): Promise<DrainMeasurement & PeerListenerResult> {
  const peer = await PeerOutbox.create(pool, url, benchSchemaName('bench_peer_drain'));
  const busPath = join(dir, `peer-drain-${concurrency}-bus.db`);
  try {
    await peer.createSlot();
    await fillPeerOutbox(pool, peer, events, keys);
    const bus = createLogTransport({ path: busPath });
    await bus.ensureTopic(enrollmentsTopic);
    await bus.close();
    const t0 = performance.now();
    const listener = await startPeerListener(url, peer.schema, concurrency, busPath);
    const processed = async () =>
      (
        await pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM "${peer.schema}"."${peer.table}" WHERE processed_at IS NOT NULL`,
        )
      ).rows[0]!.n;
    let done = 0;
    await waitUntil(() => listener.handled() >= events, limitMs, 20);
    await waitUntil(
      async () => {
        done = await processed();
        return done >= events;
      },
      Math.max(0, limitMs - (performance.now() - t0)),
      20,
    );
    const seconds = (performance.now() - t0) / 1000;
    const result = await listener.stop();
    return {
      events,
      rate: done / seconds,
      seconds,
      inLog: countLogRecords(busPath, enrollmentsTopic.name),
      left: events - done,
      ...result,
    };
  } finally {
    await peer.close();
  }
}
