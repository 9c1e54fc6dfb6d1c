import { createChangeCapture, dropChangeCapture, PostgresChangeSource } from '@sluice/postgres/cdc';
import pg from 'pg';
import { LogicalReplicationService, type Pgoutput, PgoutputPlugin } from 'pg-logical-replication';
import { postgresUrl } from '../postgres/postgres-url.js';
import type { BenchResult } from '../report.js';
import { cdcFigures, progress, runSluiceCdc } from './cdc-bench-run.js';

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
    const source = new PostgresChangeSource({ connectionString: url, ...sluice });
    const writer = await pool.connect();
    let run: Awaited<ReturnType<typeof runSluiceCdc>>;
    try {
      run = await runSluiceCdc(dir, source, changes, async (id) => {
        await writer.query(`INSERT INTO ${table} VALUES ($1, 'live', true)`, [id]);
      });
    } finally {
      writer.release();
    }
    return {
      name: 'postgres-cdc',
      description: `${changes.toLocaleString('en-US')} committed inserts (transactions of 10,000) read from PostgreSQL's WAL (pgoutput) and shipped to the embedded log; then single-row transactions at 1,000/s, commit to acknowledged on the bus`,
      figures: cdcFigures(run, 'logical replication reader', rawRate),
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
