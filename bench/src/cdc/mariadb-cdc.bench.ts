import { MysqlChangeSource, MysqlPositionStore } from '@sluice/mysql/cdc';
import ZongJi from '@vlasky/zongji';
import mysql from 'mysql2/promise';
import type { BenchResult } from '../report.js';
import { serviceUrl } from '../transports/service-url.js';
import { cdcFigures, progress, runSluiceCdc } from './cdc-bench-run.js';

/**
 * MariaDB change data capture: `changes` committed inserts (transactions of 10,000) read from the row-based
 * binlog and shipped to the embedded log (commit to transport acknowledgement), beside the raw binlog client
 * (@vlasky/zongji, which the source is built on) reading the same changes from the same GTID position and doing
 * nothing with them; then end-to-end latency, commit to acknowledged on the bus, at 1,000 single-row
 * transactions a second.
 */
export async function mariadbCdcBench(dir: string, changes = 200_000): Promise<BenchResult> {
  const url = serviceUrl('mariadb', 'SLUICE_TEST_MYSQL_URL');
  const pool = mysql.createPool({ uri: url, connectionLimit: 4 });
  const database = `cdc_bench_${Date.now().toString(36)}`;
  const table = `\`${database}\`.courses`;
  await pool.query(`CREATE DATABASE \`${database}\``);
  await pool.query(
    `CREATE TABLE ${table} (id INT PRIMARY KEY, title TEXT NOT NULL, published BOOLEAN NOT NULL)`,
  );
  try {
    const positionStore = new MysqlPositionStore(pool, { database });
    const [[{ start }]] = (await pool.query('SELECT @@gtid_binlog_pos AS start')) as unknown as [
      [{ start: string }],
    ];
    await positionStore.save('bench', start);
    for (let i = 0; i < changes; i += 10_000) {
      await pool.query(
        `INSERT INTO ${table} SELECT seq, CONCAT('course ', seq), seq % 2 = 0 FROM seq_${i + 1}_to_${Math.min(changes, i + 10_000)}`,
      );
    }
    const rawRate = await rawReader(url, start, database, changes);
    progress(`raw binlog reader: ${rawRate} changes/s`);
    const source = new MysqlChangeSource({
      url,
      name: 'bench',
      positionStore,
      tables: [`${database}.courses`],
    });
    const writer = await pool.getConnection();
    let run: Awaited<ReturnType<typeof runSluiceCdc>>;
    try {
      run = await runSluiceCdc(dir, source, changes, async (id) => {
        await writer.query(`INSERT INTO ${table} VALUES (?, 'live', true)`, [id]);
      });
    } finally {
      writer.release();
    }
    return {
      name: 'mariadb-cdc',
      description: `${changes.toLocaleString('en-US')} committed inserts (transactions of 10,000) read from MariaDB's row-based binlog (GTID position, table filter) and shipped to the embedded log; then single-row transactions at 1,000/s, commit to acknowledged on the bus`,
      figures: cdcFigures(run, 'binlog reader (@vlasky/zongji)', rawRate),
    };
  } finally {
    await pool.query(`DROP DATABASE IF EXISTS \`${database}\``).catch(() => undefined);
    await pool.end();
  }
}

/** @vlasky/zongji on its own: reads `count` inserted rows of `database` after `start`; changes/s. */
async function rawReader(url: string, start: string, database: string, count: number): Promise<number> {
  const zongji = new ZongJi({ uri: url, dateStrings: true } as never);
  let n = 0;
  let first = 0;
  let last = 0;
  const done = new Promise<void>((resolve, reject) => {
    zongji.on('error', reject);
    zongji.on('binlog', (event: unknown) => {
      const rows = (event as { rows?: unknown[] }).rows;
      if (rows === undefined) return;
      if (n === 0) first = performance.now();
      n += rows.length;
      if (n >= count) {
        last = performance.now();
        resolve();
      }
    });
  });
  zongji.start({
    gtidSet: start,
    serverId: 0x3fff_0001,
    includeEvents: ['tablemap', 'writerows'],
    includeSchema: { [database]: ['courses'] },
  });
  try {
    await done;
  } finally {
    await new Promise<void>((resolve) => {
      zongji.once('stopped', () => resolve());
      zongji.stop();
    });
  }
  return Math.round((count / (last - first)) * 1000);
}
