import { fork } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type ChangeMapping,
  createChangeOutbox,
  createRelay,
  defineEvent,
  defineKey,
  defineTopic,
  mapped,
  withBackfill,
} from '@sluice/core';
import { sleep } from '@sluice/core/adapter';
import {
  createChangeCapture,
  createPostgresSnapshotter,
  dropChangeCapture,
  PostgresChangeSource,
} from '@sluice/postgres/cdc';
import { createLogTransport } from '@sluice/sqlite';
import pg from 'pg';
import { z } from 'zod';
import { latencySummary } from '../postgres/latency-figures.js';
import { postgresUrl } from '../postgres/postgres-url.js';
import type { BenchResult } from '../report.js';
import { progress } from './cdc-bench-run.js';
import { observedTransport } from './observed-transport.js';

const ItemId = defineKey('itemId', z.string(), { description: 'a catalogue item' });
const items = defineTopic({ name: 'items', kind: 'entity', partitions: 8 });
const ItemState = defineEvent({
  type: 'item.state',
  version: 1,
  key: ItemId,
  topic: items,
  description: 'the current state of an item (snapshot, insert or update)',
  schema: z.object({ itemId: z.string(), label: z.string(), stock: z.int() }),
});
const map: ChangeMapping = (c) => {
  const row = c.after as { id: number; label: string; stock: number } | undefined;
  if (row === undefined) return [];
  return [mapped(ItemState, { itemId: `item-${row.id}`, label: row.label, stock: row.stock })];
};

/** Live single-row updates a second while the backfill runs. */
const LIVE_RATE = 1000;

/**
 * A backfill of a `rows`-row PostgreSQL table (watermark chunks of `chunkSize`) to the embedded log's entity
 * topic, from the request to the last chunk acknowledged, while live updates go on at 1,000/s; beside a plain
 * keyset scan of the same table in the same chunks (the database's read rate, no watermarks, no bus), and the
 * live updates' commit-to-bus latency during the backfill.
 */
export async function postgresBackfillBench(
  dir: string,
  rows = 1_000_000,
  chunkSize = 2000,
): Promise<BenchResult> {
  const url = postgresUrl();
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const schema = `bf_bench_${Date.now().toString(36)}`;
  const table = `${schema}.items`;
  const capture = { slot: `${schema}_slot`, publication: `${schema}_pub` };
  await pool.query(`CREATE SCHEMA ${schema}`);
  await pool.query(`CREATE TABLE ${table} (id int PRIMARY KEY, label text NOT NULL, stock int NOT NULL)`);
  try {
    for (let i = 0; i < rows; i += 100_000) {
      await pool.query(
        `INSERT INTO ${table} SELECT g, 'item ' || g, g % 97 FROM generate_series($1::int, $2::int) g`,
        [i + 1, Math.min(rows, i + 100_000)],
      );
    }
    await pool.query(`VACUUM ANALYZE ${table}`);
    await createChangeCapture(pool, { ...capture, tables: [table], backfillSchema: schema });

    // Baseline: the same chunks read with a keyset query, nothing else.
    let t = performance.now();
    let scanned = 0;
    let after = 0;
    for (;;) {
      const { rows: chunk } = await pool.query<{ id: number }>(
        `SELECT * FROM ${table} WHERE id > $1 ORDER BY id LIMIT ${chunkSize}`,
        [after],
      );
      if (chunk.length === 0) break;
      scanned += chunk.length;
      after = chunk.at(-1)!.id;
    }
    const scanRate = Math.round((scanned / (performance.now() - t)) * 1000);
    progress(`keyset scan: ${scanRate} rows/s`);

    const bus = createLogTransport({ path: join(dir, 'backfill-bus.db') });
    const arrivedAt = new Map<string, number>();
    let published = 0;
    const counting = observedTransport(bus, (records, now) => {
      published += records.length;
      for (const r of records) {
        // The first event carrying a live update's label marks its arrival (a snapshot row may carry it too).
        const k = `${r.key}/${r.value?.includes('"live-') ? 'live' : ''}`;
        if (!arrivedAt.has(k)) arrivedAt.set(k, now);
      }
    });
    const snapshotter = createPostgresSnapshotter(pool, { schema, chunkSize });
    const source = withBackfill(new PostgresChangeSource({ connectionString: url, ...capture }), {
      snapshotter,
      pollIntervalMs: 50,
    });
    const outbox = createChangeOutbox({ source, map, eventSource: 'urn:service:catalogue' });
    const relay = createRelay({
      outbox,
      transport: counting,
      topics: [items],
      batchSize: 1000,
      idleWaitMs: 20,
    });
    relay.start();
    await sleep(500);

    // Live updates at 1,000/s from another process (the application), each of an id no other update uses.
    const writer = fork(
      fileURLToPath(new URL('./live-updates-process.ts', import.meta.url)),
      [url, table, String(rows), String(LIVE_RATE)],
      { execArgv: process.execArgv },
    );
    const writes = new Promise<Array<[string, number]>>((resolve, reject) => {
      writer.once('message', (m) => resolve(m as Array<[string, number]>));
      writer.once('exit', (code) => reject(new Error(`the live writer exited with ${code}`)));
    });
    await sleep(1000);

    t = performance.now();
    const id = await snapshotter.request({ source: source.name, schema, table: 'items' });
    for (;;) {
      const [r] = (
        await pool.query<{ status: string; rows_delivered: string }>(
          `SELECT status, rows_delivered FROM ${schema}.cdc_backfill WHERE id = $1`,
          [id],
        )
      ).rows;
      if (r!.status === 'done') break;
      await sleep(100);
    }
    const backfillMs = performance.now() - t;
    const [done] = (
      await pool.query<{ rows_delivered: string }>(
        `SELECT rows_delivered FROM ${schema}.cdc_backfill WHERE id = $1`,
        [id],
      )
    ).rows;
    const delivered = Number(done!.rows_delivered);
    writer.send('stop');
    const committedAt = new Map(await writes);
    const n = committedAt.size;
    const deadline = Date.now() + 10_000;
    while ([...committedAt.keys()].some((k) => !arrivedAt.has(k)) && Date.now() < deadline) await sleep(20);
    const latency = latencySummary(committedAt, arrivedAt, 1000, performance.timeOrigin + performance.now());
    const backfillRate = Math.round((delivered / backfillMs) * 1000);
    progress(
      `backfill: ${delivered} rows in ${Math.round(backfillMs)} ms = ${backfillRate} rows/s; ${n} live updates`,
    );
    await relay.stop();
    await outbox.close();
    await bus.close();
    return {
      name: 'postgres-backfill',
      description: `a backfill (watermark chunks of ${chunkSize}) of a ${rows.toLocaleString('en-US')}-row PostgreSQL table to the embedded log's entity topic, request to last chunk acknowledged, while single-row updates go on at ${LIVE_RATE}/s; beside a plain keyset scan of the table`,
      figures: {
        'backfill: rows delivered': delivered,
        'backfill: seconds': backfillMs / 1000,
        'backfill: rows/s': backfillRate,
        'keyset scan (no watermarks, no bus), rows/s': scanRate,
        'ratio (backfill/keyset scan)': backfillRate / scanRate,
        'live updates during the backfill': n,
        'events published': published,
        'live updates, commit to bus: p50 ms': latency.p50,
        'live updates, commit to bus: p99 ms': latency.p99,
        'live updates, commit to bus: max ms': latency.max,
        'live updates not arrived': latency.notArrived,
      },
    };
  } finally {
    await dropChangeCapture(pool, capture).catch(() => undefined);
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await pool.end();
  }
}
