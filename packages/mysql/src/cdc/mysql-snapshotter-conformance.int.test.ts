import type { ChangeSource, Snapshotter } from '@sluice/core';
import { runSnapshotterConformance } from '@sluice/testing';
import { type TestDatabase, testDatabase, testUrl } from '../test-database.test-support.js';
import { createMysqlBackfillTables } from './mysql-backfill-tables.js';
import { MysqlChangeSource } from './mysql-change-source.js';
import { MysqlPositionStore } from './mysql-position-store.js';
import { createMysqlSnapshotter } from './mysql-snapshotter.js';

let db: TestDatabase | undefined;
const opened: (ChangeSource | Snapshotter)[] = [];
const open = () => {
  if (db === undefined) throw new Error('setup() first');
  return db;
};
const track = <T extends ChangeSource | Snapshotter>(x: T): T => {
  opened.push(x);
  return x;
};

runSnapshotterConformance('MysqlSnapshotter', {
  async setup() {
    db = testDatabase({ prefix: 'snapc' });
    await createMysqlBackfillTables(db.pool, db.database);
    const d = `\`${db.database}\``;
    await db.query(
      `CREATE TABLE ${d}.seats (room VARCHAR(8) NOT NULL, seat INT NOT NULL, holder VARCHAR(40), PRIMARY KEY (room, seat)) ENGINE=InnoDB`,
    );
    await db.query(`CREATE TABLE ${d}.notes (body TEXT) ENGINE=InnoDB`);
    const rows: unknown[] = [];
    for (const room of ['A', 'B', 'C', 'D'])
      for (let seat = 1; seat <= 250; seat++) rows.push([room, seat, `h-${room}${seat}`]);
    await db.query(`INSERT INTO ${d}.seats VALUES ?`, [rows]);
  },
  async teardown() {
    for (const x of opened.splice(0)) await x.close();
    await db?.close();
    db = undefined;
  },
  schema: () => open().database,
  snapshotter: (chunkSize) =>
    track(createMysqlSnapshotter(open().pool, { database: open().database, chunkSize })),
  source: () =>
    track(
      new MysqlChangeSource({
        url: testUrl(),
        name: `${open().database}-snap`,
        positionStore: new MysqlPositionStore(open().pool, { database: open().database }),
        tables: [`${open().database}.seats`, `${open().database}.cdc_watermark`],
      }),
    ),
  async addSeat(room, seat, holder) {
    await open().query(`INSERT INTO \`${open().database}\`.seats VALUES (?, ?, ?)`, [room, seat, holder]);
  },
});
