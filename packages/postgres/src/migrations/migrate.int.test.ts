import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { InvalidOptionError, MigrationRequiredError, SluiceError } from '@sluice/core';
import { createPostgresInbox } from '../inbox/postgres-inbox.js';
import { createPostgresOutbox } from '../outbox/postgres-outbox.js';
import { fromPg } from '../pg-client.js';
import { SOURCE, type TestDatabase, testDatabase } from '../test-database.test-support.js';
import { LATEST_VERSION, MIGRATIONS, migrate, pendingMigrations, schemaVersion } from './migrate.js';

let db: TestDatabase;

beforeEach(() => {
  db = testDatabase({ prefix: 'mig' });
});

afterEach(async () => {
  await db.close();
});

async function schemaExists(schema: string): Promise<boolean> {
  const rows = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1',
    [schema],
  );
  return rows[0]!.n === 1;
}

async function tables(schema: string): Promise<string[]> {
  const rows = await db.query<{ t: string }>(
    'SELECT tablename AS t FROM pg_tables WHERE schemaname = $1 ORDER BY 1',
    [schema],
  );
  return rows.map((r) => r.t);
}

describe('migrations', () => {
  it('a missing schema: the outbox and inbox throw MigrationRequiredError saying to run `sluice migrate`, and create nothing', async () => {
    await assert.rejects(
      createPostgresOutbox(db.pool, { source: SOURCE, schema: db.schema }),
      (e: unknown) => {
        assert.ok(e instanceof MigrationRequiredError, String(e));
        assert.equal(e.code, 'SLUICE_MIGRATION_REQUIRED');
        assert.ok(e.message.includes(`${db.schema}.outbox`), e.message);
        assert.ok(e.message.includes('run `sluice migrate`'), e.message);
        assert.ok(e.message.includes('`migrate: true`'), e.message);
        return true;
      },
    );
    await assert.rejects(
      createPostgresInbox(db.pool, { schema: db.schema }),
      (e: unknown) =>
        e instanceof MigrationRequiredError &&
        e.message.includes(`${db.schema}.inbox`) &&
        e.message.includes('run `sluice migrate`'),
    );
    assert.equal(await schemaExists(db.schema), false, 'nothing was created behind the caller');
    assert.equal(await schemaVersion(fromPg(db.pool), db.schema), 0);
  });

  it('migrates idempotently, into the configured schema, with a history', async () => {
    const ex = fromPg(db.pool);
    const applied = await migrate(ex, db.schema);
    assert.deepEqual(
      applied.map((m) => m.version),
      MIGRATIONS.map((m) => m.version),
    );
    assert.equal(await schemaVersion(ex, db.schema), LATEST_VERSION);
    assert.deepEqual(await tables(db.schema), [
      'inbox',
      'inbox_chain',
      'inbox_group',
      'migrations',
      'outbox',
      'outbox_archive',
      'outbox_delivered',
      'outbox_sequence',
      'relay_member',
      'relay_partition',
      'relay_waiter',
    ]);
    const history = await db.query<{ version: number; name: string }>(
      `SELECT version, name FROM "${db.schema}".migrations ORDER BY version`,
    );
    assert.deepEqual(
      history,
      MIGRATIONS.map((m) => ({ version: m.version, name: m.name })),
    );
    // Again: nothing to do; the stores open, with or without migrate: true.
    assert.deepEqual(await migrate(ex, db.schema), []);
    await createPostgresOutbox(db.pool, { source: SOURCE, schema: db.schema, migrate: true });
    await createPostgresOutbox(db.pool, { source: SOURCE, schema: db.schema });
    await createPostgresInbox(db.pool, { schema: db.schema });
    assert.equal(
      (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${db.schema}".migrations`))[0]!.n,
      MIGRATIONS.length,
    );
    // The outbox's txid index exists.
    const indexes = await db.query<{ i: string }>(
      "SELECT indexdef AS i FROM pg_indexes WHERE schemaname = $1 AND indexname = 'outbox_txid_position'",
      [db.schema],
    );
    assert.match(indexes[0]!.i, /\(txid, "?position"?\)/);
  });

  it('concurrent migrations from several connections apply each step once', async () => {
    const results = await Promise.all(
      Array.from({ length: 4 }, async () => migrate(fromPg(await db.client()), db.schema)),
    );
    assert.ok(results.every((r) => Array.isArray(r)));
    assert.equal(await schemaVersion(fromPg(db.pool), db.schema), LATEST_VERSION);
    assert.equal(
      (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${db.schema}".migrations`))[0]!.n,
      MIGRATIONS.length,
    );
  });

  it('dry run: returns the SQL, schema-qualified, and applies nothing', async () => {
    const ex = fromPg(db.pool);
    const pending = await pendingMigrations(ex, db.schema);
    assert.deepEqual(
      pending.map((m) => m.version),
      [0, 0, ...MIGRATIONS.map((m) => m.version)],
    );
    assert.match(pending[0]!.sql, new RegExp(`^CREATE SCHEMA IF NOT EXISTS "${db.schema}"$`));
    assert.ok(pending.some((m) => m.sql.includes(`CREATE TABLE "${db.schema}".outbox (`)));
    assert.ok(pending.some((m) => /txid\s+xid8\s+NOT NULL DEFAULT pg_current_xact_id\(\)/.test(m.sql)));
    for (const m of pending) assert.ok(!m.sql.includes(';'), `one statement per step: ${m.sql}`);
    assert.equal(await schemaExists(db.schema), false, 'a dry run creates nothing');

    await migrate(ex, db.schema);
    assert.deepEqual(await pendingMigrations(ex, db.schema), []);

    // An older schema: only the missing steps, and the stores say which version they found.
    await db.query(`DELETE FROM "${db.schema}".migrations WHERE version > 3`);
    assert.deepEqual(
      (await pendingMigrations(ex, db.schema)).map((m) => m.version),
      MIGRATIONS.filter((m) => m.version > 3).map((m) => m.version),
    );
    await assert.rejects(
      createPostgresOutbox(db.pool, { source: SOURCE, schema: db.schema }),
      new RegExp(`is at schema version 3, this Sluice needs ${LATEST_VERSION}: run \`sluice migrate\``),
    );
  });

  it('a schema newer than this Sluice is refused with SLUICE_SCHEMA_TOO_NEW', async () => {
    await migrate(fromPg(db.pool), db.schema);
    await db.query(`INSERT INTO "${db.schema}".migrations (version, name) VALUES (999, 'from the future')`);
    await assert.rejects(
      createPostgresOutbox(db.pool, { source: SOURCE, schema: db.schema }),
      (e: unknown) =>
        e instanceof SluiceError && e.code === 'SLUICE_SCHEMA_TOO_NEW' && /upgrade/.test(e.message),
    );
  });

  it('validates options, naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ source: 'accounts service' }, 'source'],
      [{ source: SOURCE, schema: 'bad-name' }, 'schema'],
      [{ source: SOURCE, schema: 'x; DROP TABLE y' }, 'schema'],
      [{ source: SOURCE, schema: 'a'.repeat(64) }, 'schema'],
      [{ source: SOURCE, channel: '1abc' }, 'channel'],
      [{ source: SOURCE, schema: 'a'.repeat(60) }, 'channel'],
      [{ source: SOURCE, pollIntervalMs: 0 }, 'pollIntervalMs'],
      [{ source: SOURCE, migrate: 'yes' }, 'migrate'],
    ];
    for (const [options, field] of cases) {
      await assert.rejects(
        createPostgresOutbox(db.pool, options as never),
        (e: unknown) => e instanceof InvalidOptionError && e.message.includes(`\`${field}\``),
        `${JSON.stringify(options)} should be refused naming ${field}`,
      );
    }
    await assert.rejects(
      createPostgresInbox(db.pool, { schema: 'Bad Schema' }),
      (e: unknown) => e instanceof InvalidOptionError && e.message.includes('`schema`'),
    );
    await assert.rejects(
      createPostgresOutbox({} as never, { source: SOURCE }),
      (e: unknown) => e instanceof InvalidOptionError && e.message.includes('`pool`'),
    );
    assert.equal(await schemaExists(db.schema), false);
  });
});
