import { join } from 'node:path';
import { enrollmentsTopic } from '@sluice/example-enrollments';
import { createLogTransport } from '@sluice/sqlite';
import type pg from 'pg';
import { benchSchemaName } from './bench-schema.js';
import { latencySummary } from './latency-figures.js';
import { logArrivals } from './log-arrivals.js';
import { type PeerConcurrency, PeerOutbox } from './peer-outbox.js';
import { runProducer } from './run-producer.js';
import type { LatencyRun } from './sluice-latency.js';
import { type PeerListenerResult, startPeerListener } from './start-peer-listener.js';
import { waitUntil } from './wait-until.js';
import { wallClock } from './wall-clock.js';

/**
 * pg-transactional-outbox end to end: a producer process storing its outbox messages at `rate` messages/s (its
 * own transactions on `connections` connections), and its replication listener in another process handing
 * each message to a handler that publishes it to the embedded log. Commit → handler called, → in the log.
 */
export async function measurePeerLatency(
  dir: string,
  pool: pg.Pool,
  url: string,
  concurrency: PeerConcurrency,
  rate: number,
  seconds: number,
  warmupSeconds: number,
  connections: number,
  waitMs: number,
): Promise<LatencyRun & PeerListenerResult> {
  const peer = await PeerOutbox.create(pool, url, benchSchemaName('bench_peer_latency'));
  try {
    await peer.createSlot();
    const busPath = join(dir, `latency-peer-${rate}-bus.db`);
    const bus = createLogTransport({ path: busPath });
    await bus.ensureTopic(enrollmentsTopic);
    await bus.close();
    const arrivedAt = new Map<string, number>();
    const listener = await startPeerListener(url, peer.schema, concurrency, busPath, (arrivals) => {
      for (const [id, at] of arrivals) if (!arrivedAt.has(id)) arrivedAt.set(id, at);
    });
    const committedAt = new Map<string, number>();
    try {
      await peer.waitStreaming();
      const producedSeconds = await runProducer(
        'peer',
        url,
        peer.schema,
        rate,
        seconds + warmupSeconds,
        connections,
        committedAt,
      );
      await waitUntil(() => arrivedAt.size >= committedAt.size, waitMs);
      const stoppedAt = wallClock();
      const result = await listener.stop();
      const first = Math.min(...committedAt.values());
      const last = Math.max(...arrivedAt.values());
      return {
        offered: committedAt.size / producedSeconds,
        delivered: (arrivedAt.size / (last - first)) * 1000,
        handler: latencySummary(committedAt, arrivedAt, warmupSeconds * 1000, stoppedAt),
        inLog: latencySummary(
          committedAt,
          logArrivals(busPath, enrollmentsTopic.name),
          warmupSeconds * 1000,
          stoppedAt,
        ),
        ...result,
      };
    } finally {
      await listener.stop();
    }
  } finally {
    await peer.close();
  }
}
