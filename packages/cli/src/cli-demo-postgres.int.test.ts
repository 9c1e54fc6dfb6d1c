import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';

// `sluice demo --store postgres` as a user runs it (a child process, as in cli.int.test.ts), against the real
// PostgreSQL of `eval "$(bash scripts/services postgres)"`.
import { assertExit, sluice } from './cli-runner.test-support.js';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'sluice-cli-demo-pg-')));

function pgUrl(): string {
  const url = process.env['SLUICE_TEST_PG_URL'];
  if (!url) {
    throw new Error(
      'SLUICE_TEST_PG_URL is not set: run `eval "$(bash scripts/services postgres)"` first (npm test does it)',
    );
  }
  return url;
}

describe('sluice demo --store postgres', () => {
  let pool: pg.Pool;
  const schemas: string[] = [];

  before(() => {
    pool = new pg.Pool({ connectionString: pgUrl(), max: 2 });
    pool.on('error', () => undefined);
  });
  after(async () => {
    // Whatever a failed run left behind.
    for (const s of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await pool?.end();
    rmSync(root, { recursive: true, force: true });
  });

  const schemaExists = async (name: string) =>
    (await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [name])).rowCount === 1;

  it('holds every invariant with the tables, outbox and inbox in a new schema, then drops it', {
    timeout: 45_000,
  }, async () => {
    const dir = join(root, 'run');
    const began = Date.now();
    const run = await sluice(
      [
        'demo',
        '--store',
        'postgres',
        '--events',
        '300',
        '--duration',
        '2',
        '--relay-kills',
        '1',
        '--dir',
        dir,
      ],
      // The URL from SLUICE_DB, as the other commands take --db: the relays get it that way too.
      { cwd: root, env: { SLUICE_DB: pgUrl() }, timeoutMs: 40_000 },
    );
    const schema = /PostgreSQL schema (sluice_demo_[0-9a-f]+) of /.exec(run.stdout)?.[1];
    if (schema) schemas.push(schema);
    assertExit(run, 0, 'demo --store postgres');
    assert.ok(Date.now() - began < 30_000, `the demo took ${Date.now() - began} ms`);
    assert.match(
      run.stdout,
      /^Sluice demo: PostgreSQL outbox -> relay -> embedded log -> consumer with inbox/m,
    );
    assert.match(run.stdout, /^ {2}lost +0$/m);
    assert.match(run.stdout, /^ {2}phantom \(rolled back or invented, yet delivered\) +0$/m);
    assert.match(run.stdout, /^ {2}applied more than once +0$/m);
    assert.match(run.stdout, /^ {2}order violations \(per key\) +0$/m);
    assert.match(run.stdout, /^ {2}relay killed with SIGKILL and restarted +1$/m);
    const committed = Number(/^ {2}committed +(\d+)$/m.exec(run.stdout)?.[1]);
    const rolledBack = Number(/^ {2}rolled back \(must never be delivered\) +(\d+)$/m.exec(run.stdout)?.[1]);
    assert.equal(committed + rolledBack, 300);
    const delivered = Number(/^ {2}delivered and applied exactly once +(\d+)$/m.exec(run.stdout)?.[1]);
    const deadLettered = Number(/^ {2}dead-lettered \(handler kept failing\) +(\d+)$/m.exec(run.stdout)?.[1]);
    assert.equal(delivered + deadLettered, committed);
    assert.match(run.stdout, /^All invariants held\.$/m);

    // The schema was new, and is gone; the password was not printed; the bus stays in --dir.
    assert.ok(schema, `no schema named in the summary:\n${run.stdout}`);
    assert.match(run.stdout, new RegExp(`^PostgreSQL schema ${schema} of .* was dropped`, 'm'));
    assert.equal(await schemaExists(schema), false, `schema ${schema} is still there`);
    const password = new URL(pgUrl()).password;
    if (password)
      assert.ok(!`${run.stdout}${run.stderr}`.includes(`:${password}@`), 'the password was printed');
    assert.ok(existsSync(join(dir, 'bus.db')));
    assert.ok(!existsSync(join(dir, 'app.db')), 'the SQLite outbox was used');
  });

  it('--keep keeps the schema with the service, outbox, inbox and consumer tables', {
    timeout: 30_000,
  }, async () => {
    const run = await sluice(
      [
        'demo',
        '--store',
        'postgres',
        '--db',
        pgUrl(),
        '--events',
        '20',
        '--duration',
        '0.2',
        '--relay-kills',
        '0',
        '--keep',
        '--dir',
        join(root, 'keep'),
        '--json',
      ],
      { cwd: root, timeoutMs: 25_000 },
    );
    assertExit(run, 0, 'demo --store postgres --keep --json');
    const out = JSON.parse(run.stdout) as {
      ok: boolean;
      committed: number;
      store: { kind: string; schema: string; kept: boolean };
    };
    schemas.push(out.store.schema);
    assert.equal(out.ok, true);
    assert.equal(out.store.kind, 'postgres');
    assert.equal(out.store.kept, true);
    const tables = (
      await pool.query<{ table_name: string }>(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
        [out.store.schema],
      )
    ).rows.map((r) => r.table_name);
    for (const t of ['courses', 'enrollments', 'outbox', 'inbox', 'enrollment_view', 'side_effects'])
      assert.ok(tables.includes(t), `${t} missing from ${tables.join(', ')}`);
    const applied = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${out.store.schema}".side_effects`,
    );
    assert.ok(applied.rows[0]!.n > 0 && applied.rows[0]!.n <= out.committed);
  });

  it('--store postgres without a postgres:// --db is a usage error', async () => {
    const missing = await sluice(['demo', '--store', 'postgres'], { cwd: root });
    assertExit(missing, 2, 'demo --store postgres');
    assert.match(missing.stderr, /--store postgres needs --db postgres:\/\//);
    const file = await sluice(['demo', '--store', 'postgres', '--db', 'app.db'], { cwd: root });
    assertExit(file, 2, 'demo --store postgres --db app.db');
    assert.match(file.stderr, /needs --db to be a postgres:\/\/ URL, got "app\.db"/);
    const other = await sluice(['demo', '--store', 'mysql'], { cwd: root });
    assertExit(other, 2, 'demo --store mysql');
    assert.match(other.stderr, /--store must be sqlite or postgres, got "mysql"/);
  });
});
