import { join } from 'node:path';
import { changeOutbox, createRelay, defineEvent, defineKey, defineTopic, mapped, sleep } from '@sluice/core';
import { createChangeCapture, dropChangeCapture, PostgresChangeSource } from '@sluice/postgres';
import { createLogTransport } from '@sluice/sqlite';
import pg from 'pg';
import { LogicalReplicationService, type Pgoutput, PgoutputPlugin } from 'pg-logical-replication';
import { z } from 'zod';
import { latencySummary } from '../postgres/latency-figures.js';
import { postgresUrl } from '../postgres/postgres-url.js';
import type { BenchResult } from '../report.js';
import { countingTransport } from './counting-transport.js';

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
  const row = c.after as { id: number; title: string; published: boolean };
  return [
    mapped(CourseChanged, { courseId: `course-${row.id}`, title: row.title, published: row.published }),
  ];
};

/**
 * PostgreSQL change data capture: `changes` committed inserts (transactions of 10,000) read from the WAL and
 * shipped to the embedded log (commit to transport acknowledgement), beside the raw logical replication client
 * (pg-logical-replication, pgoutput) reading the same changes from a second slot and doing nothing with them;
 * then end-to-end latency, commit to acknowledged on the bus, at 1,000 single-row transactions a second.
 */
export async function postgresCdcBench(dir: string, changes = 200_000): Promise<BenchResult> {
  const url = postgresUrl();
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const schema = `cdc_bench_${Date.now().toString(36)}`;
  const table = `${schema}.courses`;
  const raw = { slot: `${schema}_raw`, publication: `${schema}_pub` };
  const sluice = { slot: `${schema}_sluice`, publication: raw.publication };
  await pool.query(`CREATE SCHEMA ${schema}`);
  await pool.query(
    `CREATE TABLE ${table} (id int PRIMARY KEY, title text NOT NULL, published boolean NOT NULL)`,
  );
  try {
    await createChangeCapture(pool, { ...raw, tables: [table] });
    await createChangeCapture(pool, { ...sluice, tables: [table] });
    for (let i = 0; i < changes; i += 10_000) {
      await pool.query(
        `INSERT INTO ${table} SELECT g, 'course ' || g, g % 2 = 0 FROM generate_series($1::int, $2::int) g`,
        [i + 1, Math.min(changes, i + 10_000)],
      );
    }
    const rawRate = await rawReader(url, raw.slot, raw.publication, changes);
    progress(`raw reader: ${rawRate} changes/s`);
    const bus = createLogTransport({ path: join(dir, 'cdc-bus.db') });
    let acknowledged = 0;
    const arrivedAt = new Map<string, number>();
    const counting = countingTransport(bus, (records, now) => {
      acknowledged += records.length;
      for (const r of records) arrivedAt.set(r.key, now);
    });
    const source = new PostgresChangeSource({ connectionString: url, ...sluice });
    const outbox = changeOutbox({ source, map, eventSource: 'urn:service:legacy-courses' });
    const relay = createRelay({
      outbox,
      transport: counting,
      topics: [courses],
      batchSize: 1000,
      idleWaitMs: 20,
    });
    const t = performance.now();
    relay.start();
    while (acknowledged < changes) await sleep(2);
    const sluiceRate = Math.round((changes / (performance.now() - t)) * 1000);
    progress(`sluice: ${sluiceRate} changes/s`);

    // Latency: single-row transactions at 1,000/s for 12 s (the first 2 s are warm-up), ids after the bulk.
    const committedAt = new Map<string, number>();
    const writer = await pool.connect();
    const start = Date.now();
    let n = 0;
    try {
      while (Date.now() - start < 12_000) {
        const due = start + n; // one per millisecond
        if (Date.now() < due) await sleep(due - Date.now());
        const id = changes + 1 + n++;
        // From the moment the application sends its (autocommit) insert: the commit's round trip counts.
        committedAt.set(`course-${id}`, performance.timeOrigin + performance.now());
        await writer.query(`INSERT INTO ${table} VALUES ($1, 'live', true)`, [id]);
      }
    } finally {
      writer.release();
    }
    const deadline = Date.now() + 10_000;
    while (acknowledged < changes + n && Date.now() < deadline) await sleep(5);
    const latency = latencySummary(committedAt, arrivedAt, 2000, performance.timeOrigin + performance.now());
    await relay.stop();
    await outbox.close();
    await bus.close();
    return {
      name: 'postgres-cdc',
      description: `${changes.toLocaleString('en-US')} committed inserts (transactions of 10,000) read from PostgreSQL's WAL (pgoutput) and shipped to the embedded log; then single-row transactions at 1,000/s, commit to acknowledged on the bus`,
      figures: {
        'sluice CDC to the embedded log, changes/s': sluiceRate,
        'raw logical replication reader (no relay, no bus), changes/s': rawRate,
        'ratio (sluice/raw reader)': sluiceRate / rawRate,
        'latency at 1,000/s: measured changes': latency.measured,
        'latency at 1,000/s: not arrived': latency.notArrived,
        'latency at 1,000/s: p50 ms': latency.p50,
        'latency at 1,000/s: p99 ms': latency.p99,
        'latency at 1,000/s: max ms': latency.max,
      },
    };
  } finally {
    for (const s of [raw, sluice]) await dropChangeCapture(pool, s).catch(() => undefined);
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await pool.end();
  }
}

/** pg-logical-replication on its own: reads `count` row changes, acknowledging as it goes; changes/s. */
async function rawReader(url: string, slot: string, publication: string, count: number): Promise<number> {
  const service = new LogicalReplicationService(
    { connectionString: url },
    { acknowledge: { auto: true, timeoutSeconds: 10 } },
  );
  let n = 0;
  let first = 0;
  let last = 0;
  const done = new Promise<void>((resolve) => {
    service.on('data', (_lsn: string, message: Pgoutput.Message) => {
      if (message.tag !== 'insert') return;
      if (n++ === 0) first = performance.now();
      if (n === count) {
        last = performance.now();
        resolve();
      }
    });
  });
  service
    .subscribe(new PgoutputPlugin({ protoVersion: 1, publicationNames: [publication] }), slot)
    .catch(() => {});
  await done;
  await service.destroy();
  return Math.round((count / (last - first)) * 1000);
}

function progress(line: string): void {
  process.stderr.write(`  ${new Date().toISOString().slice(11, 19)} ${line}\n`);
}
