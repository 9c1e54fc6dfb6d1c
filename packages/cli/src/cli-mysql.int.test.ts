import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createMysqlBackfillTables } from '@sluice/mysql/cdc';
import mysql from 'mysql2/promise';
import { assertExit, lines, sluice as run } from './cli-runner.test-support.js';

// `sluice backfill --db mysql://...` as a child process against the real MariaDB of
// `eval "$(bash scripts/services mariadb)"`, in a database of its own, dropped afterwards.
const root = realpathSync(mkdtempSync(join(tmpdir(), 'sluice-cli-my-')));

describe('sluice on MySQL/MariaDB (--db mysql://...)', () => {
  const url = process.env['SLUICE_TEST_MYSQL_URL'];
  if (!url)
    throw new Error('SLUICE_TEST_MYSQL_URL is not set: run the tests with `npm test` (it starts MariaDB)');
  const database = `cli_${randomBytes(5).toString('hex')}`;
  let pool: mysql.Pool;

  before(async () => {
    pool = mysql.createPool({ uri: url, connectionLimit: 2 });
    await createMysqlBackfillTables(pool, database);
    await pool.query(`CREATE TABLE \`${database}\`.items (id INT PRIMARY KEY, label TEXT)`);
  });
  after(async () => {
    await pool.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await pool.end();
    rmSync(root, { recursive: true, force: true });
  });

  it('records a backfill, lists it and cancels it', async () => {
    const db = ['--db', url, '--backfill-schema', database];
    const sluice = (args: string[]) => run([...args, ...db], { cwd: root, env: {} });
    const requested = await sluice([
      'backfill',
      'binlog:legacy',
      '--table',
      `${database}.items`,
      '--where',
      'id < 100',
    ]);
    assertExit(requested, 0, 'backfill');
    const id = /backfill (\d+) requested/.exec(requested.stdout)?.[1];
    assert.ok(id, requested.stdout);
    const listed = lines((await sluice(['backfill', '--list', 'binlog:legacy', '--json'])).stdout).map(
      (l) => JSON.parse(l) as Record<string, unknown>,
    );
    assert.deepEqual(
      listed.map((r) => [r['id'], r['status'], r['table'], r['where']]),
      [[id, 'pending', 'items', 'id < 100']],
    );
    const bad = await sluice([
      'backfill',
      'binlog:legacy',
      '--table',
      `${database}.items`,
      '--where',
      'idd < 1',
    ]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /where.*idd/s);
    assertExit(await sluice(['backfill', '--cancel', id]), 0, 'backfill --cancel');
    assert.match(
      (await sluice(['backfill', '--list'])).stdout,
      new RegExp(`^${id}\\s+cancelled\\s+binlog:legacy`, 'm'),
    );
  });

  it("migrate creates the outbox in the URL's database, then is up to date; status reads it; the password is never printed", async () => {
    const target = `cli_m_${randomBytes(5).toString('hex')}`;
    await pool.query(`CREATE DATABASE \`${target}\``);
    try {
      const u = new URL(url);
      u.pathname = `/${target}`;
      const db = ['--db', u.href];
      const before = await run(['status', ...db], { cwd: root, env: {} });
      assertExit(before, 1, 'status before migrate');
      assert.match(before.stderr, /sluice migrate/);
      const first = await run(['migrate', ...db], { cwd: root, env: {} });
      assertExit(first, 0, 'migrate');
      assert.match(first.stdout, /applied/);
      const again = await run(['migrate', ...db], { cwd: root, env: {} });
      assertExit(again, 0, 'migrate again');
      assert.match(again.stdout, /up to date/);
      const status = await run(['status', ...db, '--json'], { cwd: root, env: {} });
      assertExit(status, 0, 'status');
      assert.equal((JSON.parse(status.stdout) as { pending: number }).pending, 0);
      const [tables] = await pool.query(
        'SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ? AND table_name = ?',
        [target, 'sluice_outbox'],
      );
      assert.equal((tables as unknown[]).length, 1, "no sluice_outbox table in the URL's database");
      for (const out of [first, again, status, before]) {
        if (u.password)
          assert.ok(!`${out.stdout}${out.stderr}`.includes(`:${u.password}@`), 'the password was printed');
      }
    } finally {
      await pool.query(`DROP DATABASE IF EXISTS \`${target}\``);
    }
  });

  it('a --db with a scheme Sluice does not know is a usage error, not a SQLite file name', async () => {
    const r = await run(['migrate', '--db', 'mongodb://127.0.0.1/app'], { cwd: root, env: {} });
    assertExit(r, 2, 'migrate --db mongodb://');
    assert.match(r.stderr, /--db mongodb:\/\/… is not a database Sluice knows/);
  });
});
