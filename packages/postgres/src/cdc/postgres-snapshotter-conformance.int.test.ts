import type { ChangeSource, Snapshotter } from '@sluice/core';
import { runSnapshotterConformance } from '@sluice/testing';
import { type TestDatabase, testDatabase, testUrl } from '../test-database.test-support.js';
import { createChangeCapture, dropChangeCapture } from './change-capture-setup.js';
import { PostgresChangeSource } from './postgres-change-source.js';
import { createPostgresSnapshotter } from './postgres-snapshotter.js';

let db: TestDatabase | undefined;
const opened: (ChangeSource | Snapshotter)[] = [];
const open = () => {
  if (db === undefined) throw new Error('setup() first');
  return db;
};
const capture = () => ({ slot: `${open().schema}_slot`, publication: `${open().schema}_pub` });
const track = <T extends ChangeSource | Snapshotter>(x: T): T => {
  opened.push(x);
  return x;
};

runSnapshotterConformance('PostgresSnapshotter', {
  async setup() {
    db = testDatabase({ prefix: 'snapc' });
    const s = `"${db.schema}"`;
    await db.query(`CREATE SCHEMA ${s}`);
    await db.query(
      `CREATE TABLE ${s}.seats (room text NOT NULL, seat int NOT NULL, holder text, PRIMARY KEY (room, seat))`,
    );
    await db.query(`CREATE TABLE ${s}.notes (body text)`);
    await db.query(
      `INSERT INTO ${s}.seats SELECT r, n, 'h-' || r || n FROM unnest(ARRAY['A','B','C','D']) r, generate_series(1, 250) n`,
    );
    await createChangeCapture(db.pool, {
      ...capture(),
      tables: [`${db.schema}.seats`],
      backfillSchema: db.schema,
    });
  },
  async teardown() {
    for (const x of opened.splice(0)) await x.close();
    // Never leave a slot behind on the shared server: it would hold WAL for good.
    await dropChangeCapture(open().pool, capture()).catch(() => undefined);
    await db?.close();
    db = undefined;
  },
  schema: () => open().schema,
  snapshotter: (chunkSize) =>
    track(createPostgresSnapshotter(open().pool, { schema: open().schema, chunkSize })),
  source: () => track(new PostgresChangeSource({ connectionString: testUrl(), ...capture() })),
  async addSeat(room, seat, holder) {
    await open().query(`INSERT INTO "${open().schema}".seats VALUES ($1, $2, $3)`, [room, seat, holder]);
  },
});
