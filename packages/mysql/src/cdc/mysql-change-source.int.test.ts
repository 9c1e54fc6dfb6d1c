import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RowChange } from '@sluice/core';
import type mysql from 'mysql2/promise';
import { sleep, type TestDatabase, testDatabase, testUrl } from '../test-database.test-support.js';
import { MysqlChangeSource } from './mysql-change-source.js';
import type { MysqlChangeSourceOptions } from './mysql-change-source-options.js';
import { MysqlPositionStore } from './mysql-position-store.js';

describe('MysqlChangeSource (MariaDB row-based binlog) on the shared server', () => {
  let db: TestDatabase;
  let store: MysqlPositionStore;
  let courses: string;
  let other: string;
  let names = 0;

  before(async () => {
    db = testDatabase({ prefix: 'cdc' });
    await db.query(`CREATE DATABASE \`${db.database}\``);
    courses = `\`${db.database}\`.courses`;
    other = `\`${db.database}\`.other`;
    await db.query(
      `CREATE TABLE ${courses} (id INT PRIMARY KEY, title VARCHAR(100) NOT NULL, price DECIMAL(10,2), big BIGINT, starts DATETIME(3), meta JSON, note TEXT, flag BOOLEAN, ratio DOUBLE, raw VARBINARY(4), day DATE, stamp TIMESTAMP(3) NULL) ENGINE=InnoDB`,
    );
    await db.query(`CREATE TABLE ${other} (id INT AUTO_INCREMENT PRIMARY KEY, note TEXT) ENGINE=InnoDB`);
    store = new MysqlPositionStore(db.pool, { database: db.database });
  });

  after(async () => {
    await db.close();
  });

  /** A source of its own name (its own stored position), capturing `courses` only. */
  const source = (options: Partial<MysqlChangeSourceOptions> = {}) =>
    new MysqlChangeSource({
      url: testUrl(),
      name: `${db.database}-${++names}`,
      positionStore: store,
      tables: [`${db.database}.courses`],
      ...options,
    });

  async function readAll(s: MysqlChangeSource, count: number, timeoutMs = 15_000): Promise<RowChange[]> {
    const out: RowChange[] = [];
    const deadline = Date.now() + timeoutMs;
    while (out.length < count && Date.now() < deadline) out.push(...(await s.read(count - out.length, 200)));
    return out;
  }

  const ids = (changes: readonly RowChange[]) =>
    changes.map((c) => [c.operation, (c.after ?? c.before)!['id']]);

  it('hands over committed transactions in commit order with full before images, real column names and decoded types', async () => {
    const s = source();
    try {
      await s.read(1, 0); // starts at the server's current position
      const t1 = await db.connection();
      const t2 = await db.connection();
      await t1.query("SET time_zone = '+00:00'"); // TIMESTAMP values are read back in UTC
      await t1.query(
        `INSERT INTO ${courses} VALUES (1, 'one', 12.50, 9007199254740993, '2026-01-02 03:04:05.678', '{"a":[1,2]}', NULL, true, 0.25, x'00ff', '2026-03-04', '2026-05-06 07:08:09.123')`,
      );
      await t2.beginTransaction();
      await t2.query(`INSERT INTO ${courses} (id, title, big) VALUES (2, 'two', 7)`); // written first, committed later
      await t1.query(`INSERT INTO ${courses} (id, title) VALUES (3, 'three')`);
      await t1.query(`INSERT INTO ${other} (note) VALUES ('not captured')`);
      await t2.commit();
      await t1.beginTransaction();
      await t1.query(`UPDATE ${courses} SET title = 'ONE', price = NULL WHERE id = 1`);
      await t1.query(`INSERT INTO ${other} (note) VALUES ('not captured, same transaction')`);
      await t1.query(`INSERT INTO ${courses} (id, title) VALUES (4, 'four'), (5, 'five')`);
      await t1.commit();
      await t2.beginTransaction();
      await t2.query(`INSERT INTO ${courses} (id, title) VALUES (6, 'never')`);
      await t2.rollback();
      await t1.query(`DELETE FROM ${courses} WHERE id = 3`);

      const changes = await readAll(s, 7);
      assert.deepEqual(ids(changes), [
        ['insert', 1],
        ['insert', 3],
        ['insert', 2],
        ['update', 1],
        ['insert', 4],
        ['insert', 5],
        ['delete', 3],
      ]);
      assert.deepEqual(changes[0]!.after, {
        id: 1,
        title: 'one',
        price: '12.50',
        big: '9007199254740993',
        starts: '2026-01-02 03:04:05.678',
        meta: '{"a":[1,2]}',
        note: null,
        flag: 1,
        ratio: 0.25,
        raw: Buffer.from([0, 255]),
        day: '2026-03-04',
        stamp: '2026-05-06 07:08:09.123',
      });
      assert.equal(changes[2]!.after!['big'], '7', 'BIGINT is always a string');
      assert.deepEqual(changes[3]!.before, changes[0]!.after, 'full before image');
      assert.deepEqual(changes[3]!.after, { ...changes[0]!.after, title: 'ONE', price: null });
      assert.deepEqual(changes[6]!.before, {
        id: 3,
        title: 'three',
        price: null,
        big: null,
        starts: null,
        meta: null,
        note: null,
        flag: null,
        ratio: null,
        raw: null,
        day: null,
        stamp: null,
      });
      assert.equal(changes[6]!.after, undefined);
      assert.equal(changes[0]!.before, undefined);
      assert.equal(changes[0]!.schema, db.database);
      assert.equal(changes[0]!.table, 'courses');
      // One transaction's changes share its sequence and GTID; later transactions have higher ones.
      assert.deepEqual(
        [changes[3]!.sequence, changes[4]!.sequence],
        [changes[5]!.sequence, changes[5]!.sequence],
      );
      assert.deepEqual(
        changes.slice(3, 6).map((c) => c.index),
        [0, 1, 2],
      );
      assert.equal(changes[3]!.transactionId, changes[5]!.transactionId);
      assert.match(changes[3]!.transactionId, /^\d+-\d+-\d+$/);
      assert.equal(Number(changes[3]!.transactionId.split('-')[2]), changes[3]!.sequence);
      for (let i = 1; i < changes.length; i++) {
        if (i !== 4 && i !== 5) assert.ok(changes[i]!.sequence > changes[i - 1]!.sequence, `sequence ${i}`);
        assert.ok(Number.isSafeInteger(changes[i]!.sequence));
      }
      assert.ok(Math.abs(changes[0]!.commitTime - Date.now()) < 60_000, 'commit time is now-ish');
      assert.equal((await s.read(10, 500)).length, 0, 'nothing rolled back, nothing of other tables');
      await s.acknowledge(changes.at(-1)!.position);
    } finally {
      await s.close();
    }
  });

  it('a reader that stored what it received rather than what was delivered would lose changes', async () => {
    // The guarantee rests on acknowledging only delivered changes: acknowledging everything read (as a reader
    // saving its received position does) and then dying before delivering loses those changes for good.
    const name = `${db.database}-naive`;
    const naive = source({ name });
    try {
      await naive.read(1, 0);
      await db.query(`INSERT INTO ${courses} (id, title) VALUES (20, 'lost'), (21, 'lost')`);
      const received = await readAll(naive, 2);
      await naive.acknowledge(received.at(-1)!.position); // "received", never delivered
    } finally {
      await naive.close();
    }
    const next = source({ name });
    try {
      assert.equal((await next.read(10, 1000)).length, 0, 'inserts 20 and 21 are never read again: lost');
    } finally {
      await next.close();
    }
  });

  it('pauses the binlog connection while its buffer is full, and resumes as it is read', async () => {
    const s = source({ maxBuffered: 50 });
    try {
      await s.read(1, 0);
      await db.query(`INSERT INTO ${courses} (id, title) SELECT seq, 'bulk' FROM seq_10000_to_29999`);
      await sleep(1500); // the server has sent what it could
      const first = await s.read(100_000, 0);
      assert.ok(
        first.length >= 50 && first.length < 10_000,
        `${first.length} of 20,000 changes buffered while nobody read`,
      );
      const all = [...first, ...(await readAll(s, 20_000 - first.length, 60_000))];
      assert.deepEqual(
        all.map((c) => c.after!['id']),
        Array.from({ length: 20_000 }, (_, i) => 10_000 + i),
      );
      assert.deepEqual([all[0]!.index, all.at(-1)!.index], [0, 19_999]);
      await s.acknowledge(all.at(-1)!.position);
    } finally {
      await s.close();
    }
  });

  it("an idle source stores the position past other tables' transactions; stats report the binlog lag", async () => {
    const name = `${db.database}-idle`;
    const s = source({ name, heartbeatIntervalMs: 200 });
    let c: mysql.Connection | undefined;
    try {
      await s.read(1, 0);
      const stored = await store.load(name);
      assert.match(
        stored ?? '',
        /^\d+-\d+-\d+/,
        'the start position was stored before the first read returned',
      );
      c = await db.connection();
      for (let i = 0; i < 5; i++) await c.query(`INSERT INTO ${other} (note) VALUES (REPEAT('x', 1000))`);
      const [[{ position }]] = (await c.query('SELECT @@gtid_binlog_pos AS position')) as unknown as [
        [{ position: string }],
      ];
      const target = Number(/0-\d+-(\d+)/.exec(position)![1]);
      let saved = 0;
      const deadline = Date.now() + 15_000;
      while (saved < target && Date.now() < deadline) {
        assert.deepEqual(await s.read(10, 200), []);
        saved = Number(/0-\d+-(\d+)/.exec((await store.load(name)) ?? '')?.[1] ?? 0);
      }
      assert.ok(saved >= target, `stored ${saved}, the other table's writes reached ${target}`);
      const stats = await s.stats();
      assert.ok(
        stats.lagBytes !== null && stats.lagBytes >= 0 && stats.lagBytes < 50_000_000,
        `lag ${stats.lagBytes} bytes`,
      );
      assert.equal(stats.lagMs, null, 'nothing read and not acknowledged');
    } finally {
      await s.close();
    }
  });
});
