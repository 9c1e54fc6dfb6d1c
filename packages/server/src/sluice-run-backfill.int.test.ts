import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { legacyCoursesSql } from '@sluice/example-legacy-courses';
import { createChangeCapture, dropChangeCapture } from '@sluice/postgres/cdc';
import pg from 'pg';
import { eventually, get, runSluice, startSluiceRun } from './sluice-run.test-support.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const CONFIG = join(here, 'test-configs', 'backfill.config.mjs');
const url = process.env['SLUICE_TEST_PG_URL'];
if (!url)
  throw new Error('SLUICE_TEST_PG_URL is not set: run the tests with `npm test` (it starts PostgreSQL)');
const ROWS = 55;

describe('a changes pipeline with backfill: sluice check, then sluice run with a backfill requested', () => {
  const schema = `bf_${randomBytes(5).toString('hex')}`;
  const table = `${schema}.course`;
  const capture = { slot: `${schema}_slot`, publication: `${schema}_pub` };
  const pool = new pg.Pool({ connectionString: url });
  const dir = mkdtempSync(join(tmpdir(), 'sluice-run-backfill-'));
  const env = {
    SLUICE_BUS: join(dir, 'bus.db'),
    CATALOGUE_DATABASE_URL: url,
    CATALOGUE_SLOT: capture.slot,
    CATALOGUE_PUBLICATION: capture.publication,
    CATALOGUE_TABLE: table,
  };

  before(async () => {
    await pool.query(`CREATE SCHEMA ${schema}`);
    await pool.query(legacyCoursesSql(table));
    await pool.query(`CREATE TABLE ${schema}.uncaptured (id int PRIMARY KEY)`);
    await pool.query(
      `INSERT INTO ${table} (course_code, name, state, seats, internal_cost)
       SELECT 'C-' || i, 'Course ' || i, 'P', i, 10 FROM generate_series(1, ${ROWS}) i`,
    );
  });
  after(async () => {
    await dropChangeCapture(pool, capture).catch(() => undefined);
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sluice check prints the change data capture prerequisites, and exits 1 on a missing one, naming the fix', {
    timeout: 60_000,
  }, async () => {
    const missing = await runSluice(['check', '--config', CONFIG], env);
    assert.equal(missing.code, 1, missing.output);
    const line = (check: string) =>
      new RegExp(`pipeline catalogue-changes: postgres:${capture.slot}: ${check}`);
    assert.match(missing.output, /ok {4}transport bus: /);
    for (const ok of ['wal_level: logical', 'role \\w+: (superuser|has REPLICATION)', 'max_wal_senders: '])
      assert.match(missing.output, new RegExp(`ok {4}${line(ok).source}`));
    assert.match(
      missing.output,
      new RegExp(`FAIL {2}${line(`publication ${capture.publication}: does not exist: create it`).source}`),
    );
    assert.match(
      missing.output,
      new RegExp(
        `FAIL {2}${line(`slot ${capture.slot}: does not exist: create it with createChangeCapture`).source}`,
      ),
    );
    assert.match(
      missing.output,
      new RegExp(`ok {4}${line('max_replication_slots: .* room for the slot').source}`),
    );
    assert.match(missing.output, /\d+ problem\(s\)/); // 2, or 3 if no publication has sluice.cdc_watermark yet
    const slots = await pool.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [capture.slot]);
    assert.equal(slots.rows.length, 0, 'sluice check created no slot');

    await createChangeCapture(pool, { ...capture, tables: [table], fullBeforeImages: true });
    const ready = await runSluice(['check', '--config', CONFIG], env);
    assert.equal(ready.code, 0, ready.output);
    assert.match(
      ready.output,
      new RegExp(`ok {4}${line(`slot ${capture.slot}: pgoutput, wal_status reserved`).source}`),
    );
    assert.match(
      ready.output,
      new RegExp(
        `ok {4}${line('backfill tables sluice\\.cdc_backfill, cdc_watermark: exist; cdc_watermark is published').source}`,
      ),
    );
    assert.match(ready.output, /1 pipeline\(s\) ready to run/);

    const uncovered = await runSluice(['check', '--config', CONFIG], {
      ...env,
      CATALOGUE_TABLE: `${schema}.uncaptured`,
    });
    assert.equal(uncovered.code, 1, uncovered.output);
    assert.match(
      uncovered.output,
      new RegExp(
        `FAIL {2}${line(`publication ${capture.publication}: does not cover ${schema}\\.uncaptured`).source}`,
      ),
    );
  });

  it('counts the rows and chunks a requested backfill hands over in /metrics, and shows it in /api/status', {
    timeout: 90_000,
  }, async () => {
    await createChangeCapture(pool, { ...capture, tables: [table], fullBeforeImages: true });
    const run = await startSluiceRun(['--config', CONFIG, '--port', '0'], env);
    try {
      assert.ok(
        await eventually(async () => (await get(run.url, '/readyz')).status === 200, 30_000),
        `not ready\n${run.output()}`,
      );
      const series = (text: string, name: string) =>
        Number(
          new RegExp(`^${name}\\{pipeline="catalogue-changes",table="${table}"\\} (\\d+)$`, 'm').exec(
            text,
          )?.[1] ?? NaN,
        );
      assert.ok(
        !/sluice_backfill_rows_total\{/.test((await get(run.url, '/metrics')).text),
        'no series before a backfill',
      );

      const requested = await runSluice(
        ['backfill', `postgres:${capture.slot}`, '--table', table, '--chunk-size', '10', '--db', url],
        {},
      );
      assert.equal(requested.code, 0, requested.output);
      let active: { table: string; rows: number; chunks: number } | undefined;
      let metrics = '';
      assert.ok(
        await eventually(
          async () => {
            const status = JSON.parse((await get(run.url, '/api/status')).text || '{}');
            active ??= status.pipelines?.[0]?.details?.backfill?.active;
            metrics = (await get(run.url, '/metrics')).text;
            return series(metrics, 'sluice_backfill_rows_total') === ROWS;
          },
          30_000,
          20,
        ),
        `rows counted: ${series(metrics, 'sluice_backfill_rows_total')}\n${metrics}\n${run.output()}`,
      );
      // 10 rows a chunk: five full ones, then 5 rows (short, so the last).
      assert.equal(series(metrics, 'sluice_backfill_chunks_total'), 6, metrics);
      assert.ok(active !== undefined, 'the running backfill was shown in /api/status');
      assert.equal(active.table, table);
      assert.ok(active.rows >= 0 && active.chunks >= 1, JSON.stringify(active));
      assert.ok(
        await eventually(
          async () => series((await get(run.url, '/metrics')).text, 'sluice_backfill_running') === 0,
          10_000,
        ),
        'not running once finished',
      );
      const done = JSON.parse((await get(run.url, '/api/status')).text).pipelines[0].details.backfill;
      assert.equal(done.active, undefined);
      assert.deepEqual(done.tables, [{ table, rows: ROWS, chunks: 6 }]);

      run.child.kill('SIGTERM');
      assert.equal(await run.exited, 0, run.output());
    } finally {
      run.child.kill('SIGKILL');
    }
  });
});
