import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createQueryChangeSource, FilePositionStore, type PreflightCheck } from '@sluice/core';
import { type TestDatabase, testDatabase, testUrl } from '../test-database.test-support.js';
import { createChangeCapture, dropChangeCapture } from './change-capture-setup.js';
import { PostgresChangeSource } from './postgres-change-source.js';
import { createPostgresPolledTable } from './postgres-polled-table.js';

const failed = (checks: readonly PreflightCheck[]) => checks.filter((c) => !c.ok);
const named = (checks: readonly PreflightCheck[], prefix: string) =>
  checks.find((c) => c.name.startsWith(prefix));

describe('PostgresChangeSource.preflight: change data capture prerequisites, read-only', () => {
  let db: TestDatabase;
  let capture: { slot: string; publication: string };

  before(async () => {
    db = testDatabase({ prefix: 'pre' });
    capture = { slot: `${db.schema}_slot`, publication: `${db.schema}_pub` };
    await db.query(`CREATE SCHEMA ${db.schema}`);
    await db.query(`CREATE TABLE ${db.schema}.course (id int PRIMARY KEY, title text)`);
    await db.query(`CREATE TABLE ${db.schema}.uncaptured (id int PRIMARY KEY)`);
    await createChangeCapture(db.pool, { ...capture, tables: [`${db.schema}.course`] });
  });
  after(async () => {
    await dropChangeCapture(db.pool, capture).catch(() => undefined);
    await db.close();
  });

  const preflight = async (options: Partial<{ slot: string; publication: string; tables: string[] }>) => {
    const source = new PostgresChangeSource({ connectionString: testUrl(), ...capture, ...options });
    try {
      return await source.preflight();
    } finally {
      await source.close();
    }
  };

  it('passes a prepared capture: wal_level, REPLICATION, publication covering the tables, slot, room for a sender', async () => {
    const checks = await preflight({ tables: [`${db.schema}.course`] });
    assert.deepEqual(failed(checks), []);
    assert.equal(named(checks, 'wal_level')?.detail, 'logical');
    assert.match(named(checks, 'role ')!.detail, /superuser|REPLICATION/);
    assert.match(named(checks, 'publication ')!.detail, new RegExp(`publishes .*${db.schema}\\.course`));
    assert.match(named(checks, 'slot ')!.detail, /pgoutput, wal_status reserved/);
    assert.ok(named(checks, 'max_wal_senders')?.ok);
  });

  it('fails a table the publication does not cover, and says how to add it', async () => {
    const checks = await preflight({ tables: [`${db.schema}.course`, `${db.schema}.uncaptured`] });
    assert.deepEqual(
      failed(checks).map((c) => c.name),
      [`publication ${capture.publication}`],
    );
    assert.match(failed(checks)[0]!.detail, new RegExp(`does not cover ${db.schema}\\.uncaptured: add them`));
  });

  it('fails a missing publication and a missing slot, creates neither, and checks room for the slot', async () => {
    const slot = `${db.schema}_other_slot`;
    const checks = await preflight({ slot, publication: `${db.schema}_nopub` });
    assert.deepEqual(
      failed(checks).map((c) => c.name),
      [`publication ${db.schema}_nopub`, `slot ${slot}`],
    );
    assert.match(named(checks, 'publication ')!.detail, /does not exist: create it .*createChangeCapture/);
    assert.match(named(checks, 'slot ')!.detail, /does not exist: create it with createChangeCapture/);
    assert.match(named(checks, 'max_replication_slots')!.detail, /room for the slot/);
    const left = await db.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    assert.equal(left.length, 0, 'preflight created no slot');
  });

  it('reports an unreachable server as one failed check, without throwing', async () => {
    const source = new PostgresChangeSource({
      connectionString: 'postgres://sluice:pw@127.0.0.1:1/none',
      ...capture,
    });
    const checks = await source.preflight();
    await source.close();
    assert.equal(checks.length, 1);
    assert.equal(checks[0]!.ok, false);
    assert.match(checks[0]!.detail, /cannot reach PostgreSQL/);
  });

  it('a query-based source: passes a table with the columns it polls, fails a missing column or table', async () => {
    const positions = new FilePositionStore(join(tmpdir(), `${db.schema}-positions.json`));
    const check = async (options: { table: string; timestampColumn?: string }) => {
      const table = createPostgresPolledTable(db.pool, {
        schema: db.schema,
        incrementingColumn: 'id',
        ...options,
      });
      const source = createQueryChangeSource({ table, positions });
      try {
        return await source.preflight();
      } finally {
        await source.close();
      }
    };
    assert.deepEqual(await check({ table: 'course' }), [
      {
        name: `table ${db.schema}.course`,
        ok: true,
        detail: 'exists with the incrementing column(s) it polls',
      },
    ]);
    const [column] = await check({ table: 'course', timestampColumn: 'changed_at' });
    assert.equal(column!.ok, false);
    assert.match(column!.detail, /changed_at/);
    const [table] = await check({ table: 'nowhere' });
    assert.equal(table!.ok, false);
    assert.match(table!.detail, new RegExp(`${db.schema}\\.nowhere`));
  });
});
