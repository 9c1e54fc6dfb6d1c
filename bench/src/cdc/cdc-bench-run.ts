import { join } from 'node:path';
import {
  type ChangeSource,
  createChangeOutbox,
  createConsumer,
  createRelay,
  defineEvent,
  defineKey,
  defineTopic,
  mapped,
} from '@sluice/core';
import { sleep } from '@sluice/core/adapter';
import { createLogTransport, createSqliteInbox, openDatabase } from '@sluice/sqlite';
import { z } from 'zod';
import { type LatencySummary, latencySummary } from '../postgres/latency-figures.js';
import { observedTransport } from './observed-transport.js';

const CourseId = defineKey('courseId', z.string(), { description: 'a course' });
const courses = defineTopic({ name: 'courses', kind: 'event', partitions: 8 });
const CourseChanged = defineEvent({
  type: 'course.changed',
  version: 1,
  key: CourseId,
  topic: courses,
  description: 'a course row was written',
  schema: z.object({ courseId: z.string(), title: z.string(), published: z.boolean() }),
});
const map = (c: { after: Readonly<Record<string, unknown>> | undefined }) => {
  // MariaDB's BOOLEAN arrives as 0 or 1.
  const row = c.after as { id: number; title: string; published: boolean | number };
  return [
    mapped(CourseChanged, {
      courseId: `course-${row.id}`,
      title: row.title,
      published: Boolean(row.published),
    }),
  ];
};

/**
 * What a CDC bench measured of Sluice: the backlog's drain rate, commit-to-acknowledged latency, and
 * commit-to-consumer latency (the event applied through a consumer's SQLite inbox).
 */
export interface CdcRun {
  readonly sluiceRate: number;
  readonly latency: LatencySummary;
  readonly consumerLatency: LatencySummary;
}

/**
 * Sluice's part of a CDC bench: `source` (positioned before `changes` committed inserts of the bench table)
 * mapped and shipped by a relay to the embedded log in `dir`, timed until the transport acknowledged them all;
 * then `insert(id)` (one autocommitted single-row insert with that id) at 1,000 a second for 12 s, the first
 * 2 s a warm-up, each timed from the moment the application sends it to its acknowledgement on the bus, and to
 * a consumer (`consume()` on the bus, SQLite inbox) having applied it.
 */
export async function runSluiceCdc(
  dir: string,
  source: ChangeSource,
  changes: number,
  insert: (id: number) => Promise<void>,
): Promise<CdcRun> {
  const bus = createLogTransport({ path: join(dir, 'cdc-bus.db') });
  let acknowledged = 0;
  const arrivedAt = new Map<string, number>();
  const counting = observedTransport(bus, (records, now) => {
    acknowledged += records.length;
    for (const r of records) arrivedAt.set(r.key, now);
  });
  const outbox = createChangeOutbox({ source, map, eventSource: 'urn:service:legacy-courses' });
  const relay = createRelay({
    outbox,
    transport: counting,
    topics: [courses],
    batchSize: 1000,
    idleWaitMs: 20,
  });
  try {
    const t = performance.now();
    relay.start();
    while (acknowledged < changes) await sleep(2);
    const sluiceRate = Math.round((changes / (performance.now() - t)) * 1000);
    progress(`sluice: ${sluiceRate} changes/s`);

    // A consumer joins at the end of the backlog: it applies the live changes only.
    const appliedAt = new Map<string, number>();
    const consumerDb = openDatabase(join(dir, `cdc-consumer-${Date.now()}.db`));
    const consumer = createConsumer({
      transport: bus,
      group: `cdc-bench-${Date.now()}`,
      inbox: createSqliteInbox(consumerDb, { migrate: true }),
      startFrom: 'latest',
      handlers: (on) => [on(CourseChanged, () => {})],
      onOutcome: (o) => {
        if (o.kind === 'applied' && !appliedAt.has(o.event.key)) {
          appliedAt.set(o.event.key, performance.timeOrigin + performance.now());
        }
      },
    });
    await sleep(1000);

    // Latency: single-row transactions at 1,000/s for 12 s (the first 2 s are warm-up), ids after the bulk.
    const committedAt = new Map<string, number>();
    const start = Date.now();
    let n = 0;
    while (Date.now() - start < 12_000) {
      const due = start + n; // one per millisecond
      if (Date.now() < due) await sleep(due - Date.now());
      const id = changes + 1 + n++;
      // From the moment the application sends its (autocommit) insert: the commit's round trip counts.
      committedAt.set(`course-${id}`, performance.timeOrigin + performance.now());
      await insert(id);
    }
    const deadline = Date.now() + 10_000;
    while (acknowledged < changes + n && Date.now() < deadline) await sleep(5);
    const latency = latencySummary(committedAt, arrivedAt, 2000, performance.timeOrigin + performance.now());
    while (appliedAt.size < committedAt.size && Date.now() < deadline) await sleep(5);
    const consumerLatency = latencySummary(
      committedAt,
      appliedAt,
      2000,
      performance.timeOrigin + performance.now(),
    );
    await consumer.stop();
    consumerDb.close();
    progress(
      `latency: to the bus p99 ${latency.p99.toFixed(1)} ms, to the consumer p99 ${consumerLatency.p99.toFixed(1)} ms`,
    );
    return { sluiceRate, latency, consumerLatency };
  } finally {
    await relay.stop().catch(() => undefined);
    await outbox.close();
    await bus.close();
  }
}

/** The figures a CDC bench reports, beside its raw reader's rate (`raw` names that reader). */
export function cdcFigures(run: CdcRun, raw: string, rawRate: number): Record<string, number> {
  return {
    'sluice CDC to the embedded log, changes/s': run.sluiceRate,
    [`raw ${raw} (no relay, no bus), changes/s`]: rawRate,
    'ratio (sluice/raw reader)': run.sluiceRate / rawRate,
    'latency at 1,000/s: measured changes': run.latency.measured,
    'latency at 1,000/s: not arrived': run.latency.notArrived,
    'latency at 1,000/s: p50 ms': run.latency.p50,
    'latency at 1,000/s: p99 ms': run.latency.p99,
    'latency at 1,000/s: max ms': run.latency.max,
    'commit to consumer (SQLite inbox) at 1,000/s: not arrived': run.consumerLatency.notArrived,
    'commit to consumer (SQLite inbox) at 1,000/s: p50 ms': run.consumerLatency.p50,
    'commit to consumer (SQLite inbox) at 1,000/s: p99 ms': run.consumerLatency.p99,
    'commit to consumer (SQLite inbox) at 1,000/s: max ms': run.consumerLatency.max,
  };
}

export function progress(line: string): void {
  process.stderr.write(`  ${new Date().toISOString().slice(11, 19)} ${line}\n`);
}
