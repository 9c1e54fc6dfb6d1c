import { join } from 'node:path';
import { createConsumer, type InboxStore } from '@sluice/core';
import { EnrollmentProgressed, enrollmentsTopic } from '@sluice/example-enrollments';
import { killHard, spawnSluice } from '@sluice/fault-tests';
import { createPostgresInbox, createPostgresOutbox } from '@sluice/postgres';
import { createLogTransport, createSqliteInbox, openDatabase } from '@sluice/sqlite';
import type pg from 'pg';
import { benchSchemaName, dropSchema } from './bench-schema.js';
import { BENCH_SOURCE } from './bench-source.js';
import { type LatencySummary, latencySummary } from './latency-figures.js';
import { logArrivals } from './log-arrivals.js';
import { openPool } from './open-pool.js';
import { runProducer } from './run-producer.js';
import { waitUntil } from './wait-until.js';
import { wallClock } from './wall-clock.js';

/** One pipeline's latency run. */
export interface LatencyRun {
  /** Events per second the producer committed. */
  readonly offered: number;
  /** Events per second that reached the handler, from the first commit to the last arrival. */
  readonly delivered: number;
  /** Commit → handler called. */
  readonly handler: LatencySummary;
  /** Commit → published to the embedded log (record timestamp, whole ms). */
  readonly inLog: LatencySummary;
}

/** Where Sluice's consumer records applied events: a PostgreSQL inbox (same server) or a SQLite file. */
export type BenchInbox = 'postgres' | 'sqlite';

/**
 * Sluice on PostgreSQL end to end: a producer process appending at `rate` events/s (its own transactions on
 * `connections` connections), a `sluice relay` process shipping to the embedded log, and a consumer here with
 * `inbox`. Commit → published to the log, → handler called, → the handler's inbox transaction committed.
 */
export async function measureSluiceLatency(
  dir: string,
  pool: pg.Pool,
  url: string,
  inboxKind: BenchInbox,
  rate: number,
  seconds: number,
  warmupSeconds: number,
  connections: number,
  waitMs: number,
): Promise<LatencyRun & { applied: LatencySummary }> {
  const schema = benchSchemaName('bench_latency');
  const busPath = join(dir, `latency-sluice-${inboxKind}-${rate}-bus.db`);
  const inboxPool = openPool(url, 4);
  const consumerDb = inboxKind === 'sqlite' ? openDatabase(join(dir, `consumer-${rate}.db`)) : undefined;
  try {
    const outbox = await createPostgresOutbox(pool, { source: BENCH_SOURCE, schema, migrate: true });
    await outbox.close();
    const bus = createLogTransport({ path: busPath });
    await bus.ensureTopic(enrollmentsTopic);
    const handlerAt = new Map<string, number>();
    const appliedAt = new Map<string, number>();
    const inbox: InboxStore<unknown> = consumerDb
      ? createSqliteInbox(consumerDb, { migrate: true })
      : await createPostgresInbox(inboxPool, { schema, migrate: true });
    const consumer = createConsumer({
      transport: bus,
      group: 'bench',
      inbox,
      handlers: (on) => [
        on(EnrollmentProgressed, (event) => {
          if (!handlerAt.has(event.id)) handlerAt.set(event.id, wallClock());
        }),
      ],
      onOutcome: (o) => {
        if (o.kind === 'applied') appliedAt.set(o.event.id, wallClock());
      },
    });
    const relay = await spawnSluice(
      [
        'relay',
        '--db',
        url,
        '--schema',
        schema,
        '--log',
        busPath,
        '--contracts',
        import.meta.resolve('@sluice/example-enrollments'),
      ],
      { inheritStderr: true },
    );
    const committedAt = new Map<string, number>();
    try {
      const producedSeconds = await runProducer(
        'sluice',
        url,
        schema,
        rate,
        seconds + warmupSeconds,
        connections,
        committedAt,
      );
      await waitUntil(() => appliedAt.size >= committedAt.size, waitMs);
      const stoppedAt = wallClock();
      const first = Math.min(...committedAt.values());
      const last = Math.max(...handlerAt.values());
      await killHard(relay);
      return {
        offered: committedAt.size / producedSeconds,
        delivered: (handlerAt.size / (last - first)) * 1000,
        handler: latencySummary(committedAt, handlerAt, warmupSeconds * 1000, stoppedAt),
        applied: latencySummary(committedAt, appliedAt, warmupSeconds * 1000, stoppedAt),
        inLog: latencySummary(
          committedAt,
          logArrivals(busPath, enrollmentsTopic.name),
          warmupSeconds * 1000,
          stoppedAt,
        ),
      };
    } finally {
      await killHard(relay);
      await consumer.stop();
      await bus.close();
    }
  } finally {
    consumerDb?.close();
    await inboxPool.end();
    await dropSchema(pool, schema);
  }
}
