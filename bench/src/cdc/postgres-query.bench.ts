import { join } from 'node:path';
import {
  createChangeOutbox,
  createQueryChangeSource,
  createRelay,
  defineEvent,
  defineKey,
  defineTopic,
  FilePositionStore,
  mapped,
  type QueryMode,
  type RowChange,
} from '@sluice/core';
import { sleep } from '@sluice/core/adapter';
import { createPostgresPolledTable } from '@sluice/postgres/cdc';
import { createLogTransport } from '@sluice/sqlite';
import pg from 'pg';
import { z } from 'zod';
import { latencySummary } from '../postgres/latency-figures.js';
import { postgresUrl } from '../postgres/postgres-url.js';
import type { BenchResult } from '../report.js';
import { progress } from './cdc-bench-run.js';
import { observedTransport } from './observed-transport.js';

const ItemId = defineKey('itemId', z.string(), { description: 'an item' });
const items = defineTopic({ name: 'items', kind: 'event', partitions: 8 });
const ItemChanged = defineEvent({
  type: 'item.changed',
  version: 1,
  key: ItemId,
  topic: items,
  description: 'an item row was written',
  schema: z.object({ itemId: z.string(), title: z.string() }),
});
const map = (c: RowChange) => {
  const row = c.after as { id: number; title: string };
  return [mapped(ItemChanged, { itemId: `item-${row.id}`, title: row.title })];
};

/** What one run of the query-based pipeline needs: a fresh table and where its bus and positions go. */
interface Pipeline {
  readonly pool: pg.Pool;
  readonly schema: string;
  readonly dir: string;
}

/**
 * Query-based liberation on PostgreSQL: `rows` committed inserts (transactions of 10,000) polled in
 * incrementing mode and shipped to the embedded log, beside a bare keyset-paging loop (`id > $1 ORDER BY id
 * LIMIT 1000`) reading the same rows and doing nothing with them; then end-to-end latency, commit to
 * acknowledged on the bus, at 200 single-row inserts a second, in incrementing mode (polling every 50 ms) and
 * in timestamp+incrementing mode with a 1 s safety delay (the delay is the floor of its latency).
 */
export async function postgresQueryBench(dir: string, rows = 100_000): Promise<BenchResult> {
  const url = postgresUrl();
  const pool = new pg.Pool({ connectionString: url, max: 6 });
  const schema = `query_bench_${Date.now().toString(36)}`;
  await pool.query(`CREATE SCHEMA ${schema}`);
  const p: Pipeline = { pool, schema, dir };
  try {
    await createTable(p, 'bulk');
    for (let i = 0; i < rows; i += 10_000) {
      await pool.query(
        `INSERT INTO ${schema}.bulk (title) SELECT 'item ' || g FROM generate_series($1::int, $2::int) g`,
        [i + 1, Math.min(rows, i + 10_000)],
      );
    }
    const rawRate = await keysetReader(pool, `${schema}.bulk`, rows);
    progress(`bare keyset reader: ${rawRate} rows/s`);
    const sluiceRate = await drainRate(p, 'bulk', rows);
    progress(`sluice: ${sluiceRate} rows/s`);
    const incrementing = await liveLatency(p, 'live_inc', 'incrementing', 0);
    progress(`incrementing: p50 ${incrementing.p50} ms`);
    const timestamped = await liveLatency(p, 'live_ts', 'timestamp+incrementing', 1000);
    progress(`timestamp+incrementing: p50 ${timestamped.p50} ms`);
    return {
      name: 'postgres-query',
      description: `${rows.toLocaleString('en-US')} committed inserts polled from PostgreSQL (incrementing mode) and shipped to the embedded log; then single-row inserts at 200/s, commit to acknowledged on the bus, polling every 50 ms`,
      figures: {
        'sluice query-based source to the embedded log, rows/s': sluiceRate,
        'bare keyset paging (no relay, no bus), rows/s': rawRate,
        'ratio (sluice/bare paging)': sluiceRate / rawRate,
        'incrementing at 200/s: p50 ms': incrementing.p50,
        'incrementing at 200/s: p99 ms': incrementing.p99,
        'incrementing at 200/s: not arrived': incrementing.notArrived,
        'timestamp+incrementing, 1 s delay, at 200/s: p50 ms': timestamped.p50,
        'timestamp+incrementing, 1 s delay, at 200/s: p99 ms': timestamped.p99,
        'timestamp+incrementing, 1 s delay, at 200/s: not arrived': timestamped.notArrived,
      },
    };
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await pool.end();
  }
}

async function createTable({ pool, schema }: Pipeline, table: string): Promise<void> {
  await pool.query(
    `CREATE TABLE ${schema}.${table} (id serial PRIMARY KEY, title text NOT NULL,
       updated_at timestamptz NOT NULL DEFAULT clock_timestamp())`,
  );
  await pool.query(`CREATE INDEX ON ${schema}.${table} (updated_at, id)`);
}

/** A relay shipping `table` to a fresh embedded log, reporting each acknowledged record's key and time. */
function startPipeline(
  p: Pipeline,
  table: string,
  mode: QueryMode,
  safetyDelayMs: number,
  onArrived: (key: string, at: number) => void,
) {
  const bus = createLogTransport({ path: join(p.dir, `${table}-bus.db`) });
  const source = createQueryChangeSource({
    table: createPostgresPolledTable(p.pool, {
      schema: p.schema,
      table,
      incrementingColumn: 'id',
      ...(mode === 'incrementing' ? {} : { timestampColumn: 'updated_at' }),
    }),
    positions: new FilePositionStore(join(p.dir, `${table}-positions.json`)),
    safetyDelayMs,
    pollIntervalMs: 50,
  });
  const outbox = createChangeOutbox({ source, map, eventSource: 'urn:service:legacy-items' });
  const transport = observedTransport(bus, (records, at) => {
    for (const r of records) onArrived(r.key, at);
  });
  const relay = createRelay({ outbox, transport, topics: [items], batchSize: 1000, idleWaitMs: 20 });
  relay.start();
  return {
    async stop() {
      await relay.stop();
      await outbox.close();
      await bus.close();
    },
  };
}

/** Rows/s of the whole pipeline draining `rows` rows already in `table`. */
async function drainRate(p: Pipeline, table: string, rows: number): Promise<number> {
  let arrived = 0;
  const t = performance.now();
  const pipeline = startPipeline(p, table, 'incrementing', 10_000, () => arrived++);
  while (arrived < rows) await sleep(2);
  const rate = Math.round((rows / (performance.now() - t)) * 1000);
  await pipeline.stop();
  return rate;
}

/** Commit → acknowledged-on-the-bus latency of single-row inserts at 200/s for 8 s (the first 2 s warm-up). */
async function liveLatency(p: Pipeline, table: string, mode: QueryMode, safetyDelayMs: number) {
  await createTable(p, table);
  const arrivedAt = new Map<string, number>();
  const pipeline = startPipeline(p, table, mode, safetyDelayMs, (key, at) => arrivedAt.set(key, at));
  const committedAt = new Map<string, number>();
  const writer = await p.pool.connect();
  const start = Date.now();
  try {
    for (let n = 0; Date.now() - start < 8000; n++) {
      const due = start + n * 5;
      if (Date.now() < due) await sleep(due - Date.now());
      const sent = performance.timeOrigin + performance.now();
      const r = await writer.query<{ id: number }>(
        `INSERT INTO ${p.schema}.${table} (title) VALUES ('live') RETURNING id`,
      );
      committedAt.set(`item-${r.rows[0]!.id}`, sent);
    }
  } finally {
    writer.release();
  }
  const deadline = Date.now() + safetyDelayMs + 10_000;
  while (arrivedAt.size < committedAt.size && Date.now() < deadline) await sleep(5);
  const summary = latencySummary(committedAt, arrivedAt, 2000, performance.timeOrigin + performance.now());
  await pipeline.stop();
  return summary;
}

/** Keyset paging on its own: reads `count` rows 1,000 at a time; rows/s. */
async function keysetReader(pool: pg.Pool, table: string, count: number): Promise<number> {
  const t = performance.now();
  let last = 0;
  let n = 0;
  while (n < count) {
    const r = await pool.query<{ id: number }>(
      `SELECT * FROM ${table} WHERE id > $1 ORDER BY id LIMIT 1000`,
      [last],
    );
    if (r.rows.length === 0) break;
    n += r.rows.length;
    last = r.rows[r.rows.length - 1]!.id;
  }
  return Math.round((n / (performance.now() - t)) * 1000);
}
