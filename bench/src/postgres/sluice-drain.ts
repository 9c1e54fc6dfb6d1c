import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { enrollmentsTopic } from '@sluice/example-enrollments';
import { killHard, spawnSluice } from '@sluice/fault-tests';
import { createPostgresOutbox } from '@sluice/postgres';
import { createLogTransport } from '@sluice/sqlite';
import type pg from 'pg';
import { benchSchemaName, dropSchema } from './bench-schema.js';
import { BENCH_SOURCE } from './bench-source.js';
import { countLogRecords } from './count-log-records.js';
import { fillSluiceOutbox } from './fill-sluice-outbox.js';
import { waitUntil } from './wait-until.js';

/** What one drain measured. */
export interface DrainMeasurement {
  readonly events: number;
  /** Events delivered per second while draining. */
  readonly rate: number;
  readonly seconds: number;
  /** Events of the outbox in the log afterwards (more than `events` if some were published twice). */
  readonly inLog: number;
  /** Events still pending when the measurement stopped (0 unless it timed out). */
  readonly left: number;
}

/**
 * Queues `events` events in Sluice's outbox (fresh schema), then starts `relays` `sluice relay` processes
 * (distinct owners, same schema, same log file) and times from the first one's start until the outbox is
 * empty: every event published to the log and acknowledged (deleted).
 */
export async function drainWithSluiceRelays(
  dir: string,
  pool: pg.Pool,
  url: string,
  relays: number,
  events: number,
  keys: number,
  timeoutMs = 120_000,
): Promise<DrainMeasurement> {
  const schema = benchSchemaName('bench_drain');
  const busPath = join(dir, `drain-${relays}-relays-bus.db`);
  const children: ChildProcess[] = [];
  try {
    const outbox = await createPostgresOutbox(pool, { source: BENCH_SOURCE, schema, migrate: true });
    await outbox.close();
    await fillSluiceOutbox(pool, schema, BENCH_SOURCE, events, keys);
    const bus = createLogTransport({ path: busPath });
    await bus.ensureTopic(enrollmentsTopic);
    await bus.close();
    const args = [
      'relay',
      '--db',
      url,
      '--schema',
      schema,
      '--log',
      busPath,
      '--contracts',
      import.meta.resolve('@sluice/example-enrollments'),
    ];
    const pending = async () =>
      (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".outbox`)).rows[0]!.n;
    const started = await Promise.all(
      Array.from({ length: relays }, async () => {
        const child = await spawnSluice(args, { inheritStderr: true });
        children.push(child);
        return performance.now();
      }),
    );
    const t0 = Math.min(...started);
    let left = events;
    await waitUntil(
      async () => {
        left = await pending();
        return left === 0;
      },
      timeoutMs,
      25,
    );
    const seconds = (performance.now() - t0) / 1000;
    await Promise.all(children.map((c) => killHard(c)));
    const inLog = countLogRecords(busPath, enrollmentsTopic.name);
    return { events, rate: (events - left) / seconds, seconds, inLog, left };
  } finally {
    await Promise.all(children.map((c) => killHard(c)));
    await dropSchema(pool, schema);
  }
}
