import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createChangeCapture, dropChangeCapture } from '@sluice/postgres/cdc';
import pg from 'pg';
import { assertExit, lines, type Run, sluice as run } from './cli-runner.test-support.js';

// `sluice backfill --contracts`: a table whose declared contracts forbid backfills (member.joined,
// `backfill: false`) is refused with SLUICE_BACKFILL_FORBIDDEN before anything is recorded; a table feeding
// only contracts that allow it is requested. Against the real PostgreSQL of `bash scripts/services postgres`.
const CONTRACTS = fileURLToPath(new URL('./classified-contracts.test-support.ts', import.meta.url));
const SCHEMA = 'cli_guarantees';
const capture = { slot: 'cli_guarantees_slot', publication: 'cli_guarantees_pub' };
const root = realpathSync(mkdtempSync(join(tmpdir(), 'sluice-cli-backfill-')));
const sluice = (args: readonly string[]): Promise<Run> => run(args, { cwd: root });

function pgUrl(): string {
  const url = process.env['SLUICE_TEST_PG_URL'];
  if (!url)
    throw new Error('SLUICE_TEST_PG_URL is not set: run `eval "$(bash scripts/services postgres)"` first');
  return url;
}

describe('sluice backfill --contracts: the backfill permission of contracts', () => {
  let pool: pg.Pool;
  let db: string[];
  const source = `postgres:${capture.slot}`;

  before(async () => {
    const url = pgUrl();
    pool = new pg.Pool({ connectionString: url, max: 2 });
    pool.on('error', () => undefined);
    await dropChangeCapture(pool, capture).catch(() => undefined);
    await pool.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await pool.query(`CREATE SCHEMA ${SCHEMA}`);
    await pool.query(`CREATE TABLE ${SCHEMA}.members (id text PRIMARY KEY, email text)`);
    await pool.query(`CREATE TABLE ${SCHEMA}.plans (id text PRIMARY KEY, name text)`);
    await createChangeCapture(pool, {
      ...capture,
      tables: [`${SCHEMA}.members`, `${SCHEMA}.plans`],
      backfillSchema: SCHEMA,
    });
    db = ['--db', url, '--backfill-schema', SCHEMA];
  });
  after(async () => {
    await dropChangeCapture(pool, capture).catch(() => undefined);
    await pool.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await pool.end();
    rmSync(root, { recursive: true, force: true });
  });

  const requests = async () => {
    const listed = await sluice(['backfill', '--list', source, '--json', ...db]);
    assertExit(listed, 0, 'backfill --list');
    return lines(listed.stdout).map((l) => JSON.parse(l) as { table: string });
  };

  it('refuses a table feeding a contract with backfill: false, names the contract, records nothing', async () => {
    const refused = await sluice([
      'backfill',
      source,
      '--table',
      `${SCHEMA}.members`,
      '--contracts',
      CONTRACTS,
      ...db,
    ]);
    assertExit(refused, 1, 'backfill of members');
    assert.match(
      refused.stderr,
      /backfill of cli_guarantees\.members refused: its rows map to member\.joined v1, whose contract forbids backfills .*\[SLUICE_BACKFILL_FORBIDDEN\]/,
    );
    assert.deepEqual(await requests(), []);
  });

  it('requests a table whose contracts allow backfills', async () => {
    const allowed = await sluice([
      'backfill',
      source,
      '--table',
      `${SCHEMA}.plans`,
      '--contracts',
      CONTRACTS,
      ...db,
    ]);
    assertExit(allowed, 0, 'backfill of plans');
    assert.match(allowed.stdout, /backfill \d+ requested: cli_guarantees\.plans/);
    assert.deepEqual(
      (await requests()).map((r) => r.table),
      ['plans'],
    );
  });
});
