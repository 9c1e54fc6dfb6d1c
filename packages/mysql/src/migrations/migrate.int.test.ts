import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { InvalidOptionError, MigrationRequiredError, SluiceError } from '@sluice/core';
import mysql from 'mysql2/promise';
import { createMysqlInbox } from '../inbox/mysql-inbox.js';
import { createMysqlOutbox } from '../outbox/mysql-outbox.js';
import { newPool, SOURCE, type TestDatabase, testDatabase, testUrl } from '../test-database.test-support.js';
import { LATEST_VERSION, MIGRATIONS, migrate, pendingMigrations, schemaVersion } from './migrate.js';

let db: TestDatabase;

beforeEach(() => {
  db = testDatabase({ prefix: 'mig' });
});

afterEach(async () => {
  await db.close();
});

async function databaseExists(name: string): Promise<boolean> {
  const rows = await db.query<{ n: number }>(
    'SELECT COUNT(*) AS n FROM information_schema.schemata WHERE schema_name = ?',
    [name],
  );
  return Number(rows[0]!.n) === 1;
}

async function tables(name: string): Promise<string[]> {
  const rows = await db.query<{ t: string }>(
    'SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ? ORDER BY 1',
    [name],
  );
  return rows.map((r) => r.t);
}

describe('migrations', () => {
  it('a missing database: the outbox and inbox throw MigrationRequiredError saying to run `sluice migrate`, and create nothing', async () => {
    await assert.rejects(
      createMysqlOutbox(db.pool, { source: SOURCE, database: db.database }),
      (e: unknown) => {
        assert.ok(e instanceof MigrationRequiredError, String(e));
        assert.equal(e.code, 'SLUICE_MIGRATION_REQUIRED');
        assert.ok(e.message.includes(`${db.database}.sluice_outbox`), e.message);
        assert.ok(e.message.includes('run `sluice migrate`'), e.message);
        return true;
      },
    );
    await assert.rejects(
      createMysqlInbox(db.pool, { database: db.database }),
      (e: unknown) =>
        e instanceof MigrationRequiredError && e.message.includes(`${db.database}.sluice_inbox`),
    );
    assert.equal(await databaseExists(db.database), false, 'nothing was created behind the caller');
    assert.equal(await schemaVersion(db.pool, db.database), 0);
  });

  it('migrates idempotently, into the configured database, with a history', async () => {
    const applied = await migrate(db.pool, { database: db.database });
    assert.deepEqual(
      applied.map((m) => m.version),
      MIGRATIONS.map((m) => m.version),
    );
    assert.equal(await schemaVersion(db.pool, db.database), LATEST_VERSION);
    assert.deepEqual(await tables(db.database), [
      'sluice_inbox',
      'sluice_inbox_chain',
      'sluice_inbox_group',
      'sluice_migrations',
      'sluice_outbox',
      'sluice_outbox_delivered',
      'sluice_outbox_sequence',
      'sluice_relay_member',
      'sluice_relay_partition',
    ]);
    const history = await db.query<{ version: number; name: string }>(
      `SELECT version, name FROM \`${db.database}\`.sluice_migrations ORDER BY version`,
    );
    assert.deepEqual(
      history.map((h) => ({ version: h.version, name: h.name })),
      MIGRATIONS.map((m) => ({ version: m.version, name: m.name })),
    );
    const partitions = await db.query<{ n: number }>(
      `SELECT COUNT(*) AS n FROM \`${db.database}\`.sluice_relay_partition`,
    );
    assert.equal(Number(partitions[0]!.n), 16);
    // Again: nothing to do; the stores open, with or without migrate: true.
    assert.deepEqual(await migrate(db.pool, { database: db.database }), []);
    await createMysqlOutbox(db.pool, { source: SOURCE, database: db.database, migrate: true });
    await createMysqlOutbox(db.pool, { source: SOURCE, database: db.database });
    await createMysqlInbox(db.pool, { database: db.database });
    const count = await db.query<{ n: number }>(
      `SELECT COUNT(*) AS n FROM \`${db.database}\`.sluice_migrations`,
    );
    assert.equal(Number(count[0]!.n), MIGRATIONS.length);
  });

  it('the pool’s current database is the default', async () => {
    await db.query(`CREATE DATABASE \`${db.database}\``);
    const scoped = mysql.createPool({ uri: testUrl(), database: db.database, connectionLimit: 2 });
    try {
      await migrate(scoped);
      assert.equal(await schemaVersion(db.pool, db.database), LATEST_VERSION);
      const outbox = await createMysqlOutbox(scoped, { source: SOURCE });
      assert.equal(outbox.database, db.database);
    } finally {
      await scoped.end();
    }
  });

  it('concurrent migrations from several pools apply each step once (GET_LOCK)', async () => {
    const pools = Array.from({ length: 4 }, () => newPool(2));
    try {
      const results = await Promise.all(pools.map((p) => migrate(p, { database: db.database })));
      assert.equal(
        results.reduce((n, r) => n + r.length, 0),
        MIGRATIONS.length,
        'every step applied by exactly one of them',
      );
      assert.equal(await schemaVersion(db.pool, db.database), LATEST_VERSION);
      const count = await db.query<{ n: number }>(
        `SELECT COUNT(*) AS n FROM \`${db.database}\`.sluice_migrations`,
      );
      assert.equal(Number(count[0]!.n), MIGRATIONS.length);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('dry run: returns the SQL for the database and applies nothing; an older schema lists only the missing steps', async () => {
    const pending = await pendingMigrations(db.pool, { database: db.database });
    assert.deepEqual(
      pending.map((m) => m.version),
      [0, 0, ...MIGRATIONS.map((m) => m.version)],
    );
    assert.match(pending[0]!.sql, new RegExp(`^CREATE DATABASE IF NOT EXISTS \`${db.database}\``));
    assert.ok(
      pending.some((m) => m.sql.includes(`CREATE TABLE IF NOT EXISTS \`${db.database}\`.sluice_outbox (`)),
    );
    for (const m of pending) assert.ok(!m.sql.includes(';'), `one statement per step: ${m.sql}`);
    assert.equal(await databaseExists(db.database), false, 'a dry run creates nothing');
    await migrate(db.pool, { database: db.database });
    assert.deepEqual(await pendingMigrations(db.pool, { database: db.database }), []);
    await db.query(`DELETE FROM \`${db.database}\`.sluice_migrations WHERE version > 3`);
    assert.deepEqual(
      (await pendingMigrations(db.pool, { database: db.database })).map((m) => m.version),
      MIGRATIONS.filter((m) => m.version > 3).map((m) => m.version),
    );
    await assert.rejects(
      createMysqlOutbox(db.pool, { source: SOURCE, database: db.database }),
      new RegExp(`is at schema version 3, this Sluice needs ${LATEST_VERSION}: run \`sluice migrate\``),
    );
    // Re-running the steps whose history was lost is harmless (IF NOT EXISTS, INSERT IGNORE).
    assert.equal((await migrate(db.pool, { database: db.database })).length, MIGRATIONS.length - 3);
    assert.equal(await schemaVersion(db.pool, db.database), LATEST_VERSION);
  });

  it('a schema newer than this Sluice is refused with SLUICE_SCHEMA_TOO_NEW', async () => {
    await migrate(db.pool, { database: db.database });
    await db.query(
      `INSERT INTO \`${db.database}\`.sluice_migrations (version, name) VALUES (999, 'from the future')`,
    );
    await assert.rejects(
      createMysqlOutbox(db.pool, { source: SOURCE, database: db.database }),
      (e: unknown) =>
        e instanceof SluiceError && e.code === 'SLUICE_SCHEMA_TOO_NEW' && /upgrade/.test(e.message),
    );
  });

  it('validates options, naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ source: 'accounts service' }, 'source'],
      [{ source: SOURCE, database: 'bad-name' }, 'database'],
      [{ source: SOURCE, database: 'x; DROP TABLE y' }, 'database'],
      [{ source: SOURCE, database: 'a'.repeat(65) }, 'database'],
      [{ source: SOURCE, pollIntervalMs: 0 }, 'pollIntervalMs'],
      [{ source: SOURCE, migrate: 'yes' }, 'migrate'],
    ];
    for (const [options, field] of cases) {
      await assert.rejects(
        createMysqlOutbox(db.pool, options as never),
        (e: unknown) => e instanceof InvalidOptionError && e.message.includes(`\`${field}\``),
        `${JSON.stringify(options)} should be refused naming ${field}`,
      );
    }
    await assert.rejects(
      createMysqlInbox(db.pool, { database: 'Bad Name' }),
      (e: unknown) => e instanceof InvalidOptionError && e.message.includes('`database`'),
    );
    await assert.rejects(
      createMysqlOutbox({} as never, { source: SOURCE }),
      (e: unknown) => e instanceof InvalidOptionError && e.message.includes('`pool`'),
    );
    assert.equal(await databaseExists(db.database), false);
  });
});
