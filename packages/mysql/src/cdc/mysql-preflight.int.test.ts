import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createQueryChangeSource, type PreflightCheck } from '@sluice/core';
import { type PrivateMariadb, startPrivateMariadb } from '@sluice/testing';
import mysql from 'mysql2/promise';
import { type TestDatabase, testDatabase, testUrl } from '../test-database.test-support.js';
import { MysqlChangeSource } from './mysql-change-source.js';
import { createMysqlPolledTable } from './mysql-polled-table.js';
import { MysqlPositionStore } from './mysql-position-store.js';

const failed = (checks: readonly PreflightCheck[]) => checks.filter((c) => !c.ok);
const named = (checks: readonly PreflightCheck[], prefix: string) =>
  checks.find((c) => c.name.startsWith(prefix));

async function preflight(source: MysqlChangeSource): Promise<readonly PreflightCheck[]> {
  try {
    return await source.preflight();
  } finally {
    await source.close();
  }
}

describe('MysqlChangeSource.preflight on the shared MariaDB: read-only', () => {
  let db: TestDatabase;
  let store: MysqlPositionStore;

  before(async () => {
    db = testDatabase({ prefix: 'pre' });
    await db.query(`CREATE DATABASE \`${db.database}\``);
    await db.query(`CREATE TABLE \`${db.database}\`.courses (id INT PRIMARY KEY) ENGINE=InnoDB`);
    store = new MysqlPositionStore(db.pool, { database: db.database });
  });
  after(async () => {
    await db.close();
  });

  const source = (name: string) =>
    new MysqlChangeSource({ url: testUrl(), name, positionStore: store, tables: [`${db.database}.courses`] });

  it('passes a server with log_bin, ROW, FULL and replication privileges; no stored position saves none', async () => {
    const checks = await preflight(source('fresh'));
    assert.deepEqual(failed(checks), []);
    assert.deepEqual(
      checks.map((c) => c.name),
      ['server', 'log_bin', 'binlog_format', 'binlog_row_image', 'privileges', 'position of mysql:fresh'],
    );
    assert.match(
      named(checks, 'position')!.detail,
      /none stored: the first run starts at the server's current position/,
    );
    assert.equal(await store.load('fresh'), undefined, 'preflight saved no position');
    const made = await db.query(
      "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'sluice_change_positions'",
      [db.database],
    );
    assert.equal(made.length, 0, 'not even the position table was created');
  });

  it('a query-based source: passes a table with the column it polls, fails a missing column', async () => {
    const check = async (incrementingColumn: string) => {
      const table = createMysqlPolledTable(db.pool, {
        database: db.database,
        table: 'courses',
        incrementingColumn,
      });
      const s = createQueryChangeSource({ table, positions: store });
      try {
        return await s.preflight();
      } finally {
        await s.close();
      }
    };
    assert.deepEqual(
      (await check('id')).map((c) => c.ok),
      [true],
    );
    const [missing] = await check('nope');
    assert.equal(missing!.ok, false);
    assert.match(missing!.detail, /nope/);
  });

  it('passes a stored position still in the binlog; fails one the server never wrote, saying to backfill', async () => {
    const [rows] = await db.pool.query('SELECT @@GLOBAL.gtid_binlog_pos AS p');
    const current = String((rows as { p: string }[])[0]!.p);
    await store.save('current', current);
    assert.deepEqual(failed(await preflight(source('current'))), []);

    await store.save('ahead', '0-1-999999999');
    const checks = await preflight(source('ahead'));
    assert.deepEqual(
      failed(checks).map((c) => c.name),
      ['position of mysql:ahead'],
    );
    assert.match(
      failed(checks)[0]!.detail,
      /is past the server's binlog .*changes may be lost\. Backfill the captured tables/,
    );
    assert.equal(await store.load('ahead'), '0-1-999999999', 'the stored position is left as it was');
  });
});

/** What the shared server must never see: another binlog_row_image, purged binlogs, a user without privileges. */
describe('MysqlChangeSource.preflight on a private MariaDB (binlog_row_image MINIMAL, purged binlogs)', () => {
  let server: PrivateMariadb;
  let pool: mysql.Pool;
  let store: MysqlPositionStore;

  before(async () => {
    server = await startPrivateMariadb({ extraConfig: 'binlog_row_image = MINIMAL' });
    pool = mysql.createPool({ uri: server.url, connectionLimit: 2 });
    await pool.query('CREATE TABLE sluice.items (id INT PRIMARY KEY) ENGINE=InnoDB');
    store = new MysqlPositionStore(pool);
  });
  after(async () => {
    await pool?.end();
    await server?.destroy();
  });

  const source = (name: string, url = server.url) =>
    new MysqlChangeSource({ url, name, positionStore: store, tables: ['sluice.items'] });

  it('fails binlog_row_image MINIMAL and a purged stored position, each saying what to do', async () => {
    await store.save('old', '0-1-1');
    for (let id = 1; id <= 3; id++) await pool.query('INSERT INTO sluice.items VALUES (?)', [id]);
    // The server keeps the binlog its last checkpoint names: flush and purge until only the newest is left.
    for (let attempt = 0; attempt < 100; attempt++) {
      await server.root('FLUSH BINARY LOGS');
      const [logs] = (await pool.query('SHOW BINARY LOGS')) as unknown as [{ Log_name: string }[]];
      await server.root(`PURGE BINARY LOGS TO '${logs.at(-1)!.Log_name}'`);
      const [left] = (await pool.query('SHOW BINARY LOGS')) as unknown as [{ Log_name: string }[]];
      if (left.length === 1) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const checks = await preflight(source('old'));
    assert.deepEqual(
      failed(checks).map((c) => c.name),
      ['binlog_row_image', 'position of mysql:old'],
    );
    assert.match(
      named(checks, 'binlog_row_image')!.detail,
      /is MINIMAL, not FULL: SET GLOBAL binlog_row_image = FULL/,
    );
    assert.match(
      named(checks, 'position')!.detail,
      /stored "0-1-1" was purged: the oldest binlog, .* starts after .*changes may be lost\. Backfill the captured tables/,
    );
  });

  it('fails a user without REPLICATION SLAVE and REPLICATION CLIENT', async () => {
    await server.root(
      "CREATE USER 'plain'@'%' IDENTIFIED BY 'plain'; GRANT SELECT ON sluice.* TO 'plain'@'%'",
    );
    const url = server.url.replace('sluice:sluice@', 'plain:plain@');
    const checks = await preflight(source('plain', url));
    const privileges = named(checks, 'privileges')!;
    assert.equal(privileges.ok, false);
    assert.match(
      privileges.detail,
      /missing REPLICATION SLAVE and REPLICATION CLIENT: GRANT REPLICATION SLAVE, REPLICATION CLIENT ON \*\.\*/,
    );
  });
});
