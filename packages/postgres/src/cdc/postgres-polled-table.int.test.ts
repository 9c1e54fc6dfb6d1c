import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createQueryChangeSource, type RowChange } from '@sluice/core';
import { memoryPositionStore, runPolledTableConformance, type WriterSession } from '@sluice/testing';
import { type TestDatabase, testDatabase } from '../test-database.test-support.js';
import { createPostgresPolledTable } from './postgres-polled-table.js';

let db: TestDatabase | undefined;
const open = () => {
  if (db === undefined) throw new Error('setup() first');
  return db;
};

runPolledTableConformance('PostgreSQL', {
  async setup() {
    db = testDatabase({ prefix: 'poll', max: 2 }); // the reading lock's connection and one for the rest
    await db.query(`CREATE SCHEMA "${db.schema}"`);
    await db.query(
      `CREATE TABLE "${db.schema}".items (id serial PRIMARY KEY, title text NOT NULL,
         updated_at timestamptz NOT NULL DEFAULT clock_timestamp())`,
    );
    await db.query(`CREATE INDEX ON "${db.schema}".items (updated_at, id)`);
  },
  async teardown() {
    await db?.close();
    db = undefined;
  },
  polledTable(columns) {
    const { pool, schema } = open();
    return createPostgresPolledTable(pool, { schema, ...columns });
  },
  async session(): Promise<WriterSession> {
    const d = open();
    const c = await d.client();
    const items = `"${d.schema}".items`;
    return {
      begin: async () => void (await c.query('BEGIN')),
      commit: async () => void (await c.query('COMMIT')),
      rollback: async () => void (await c.query('ROLLBACK')),
      async insert(title) {
        return (
          await c.query<{ id: number }>(`INSERT INTO ${items} (title) VALUES ($1) RETURNING id`, [title])
        ).rows[0]!.id;
      },
      async update(id, title) {
        await c.query(`UPDATE ${items} SET title = $1, updated_at = clock_timestamp() WHERE id = $2`, [
          title,
          id,
        ]);
      },
      close: async () => undefined, // closed with the database
    };
  },
  async addColumn(name) {
    await open().query(`ALTER TABLE "${open().schema}".items ADD COLUMN "${name}" text`);
  },
  async killLockHolder(name) {
    await open().query(
      `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
         AND ((classid::bigint << 32) | objid::bigint) = hashtextextended($1, 0)`,
      [`sluice_query:${name}`],
    );
  },
});

describe('postgresPolledTable: columns and types', () => {
  let d: TestDatabase;
  before(async () => {
    d = testDatabase({ prefix: 'pollt' });
    await d.query(`CREATE SCHEMA "${d.schema}"`);
    await d.query(
      `CREATE TABLE "${d.schema}"."Local" ("Id" bigint PRIMARY KEY, note text, changed timestamp(3) NOT NULL)`,
    );
  });
  after(() => d.close());

  it('polls a timestamp-without-time-zone column on the session clock, exactly, with quoted mixed-case names', async () => {
    await d.query(
      `INSERT INTO "${d.schema}"."Local" VALUES (9007199254740991, 'max id', localtimestamp - interval '1 minute'),
         (2, 'two', localtimestamp - interval '1 minute'), (3, 'future', localtimestamp + interval '1 hour')`,
    );
    const s = createQueryChangeSource({
      table: createPostgresPolledTable(d.pool, {
        schema: d.schema,
        table: 'Local',
        incrementingColumn: 'Id',
        timestampColumn: 'changed',
      }),
      positions: memoryPositionStore(),
      safetyDelayMs: 1000,
    });
    const changes: RowChange[] = await s.read(10, 0).finally(() => s.close());
    assert.deepEqual(
      changes.map((c) => [c.index, c.after!['note']]),
      [
        [2, 'two'],
        [9007199254740991, 'max id'],
      ],
      'the future row is not yet older than the delay',
    );
    const [exact] = await d.query<{ micros: string }>(
      `SELECT (extract(epoch FROM changed) * 1000000)::bigint::text AS micros FROM "${d.schema}"."Local" WHERE "Id" = 2`,
    );
    assert.equal(changes[0]!.sequence, Number(exact!.micros), 'the timestamp in microseconds, exactly');
  });
});
