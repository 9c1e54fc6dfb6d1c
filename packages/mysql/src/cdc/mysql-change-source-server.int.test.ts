import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RowChange, SluiceError } from '@sluice/core';
import { type PrivateMariadb, startPrivateMariadb } from '@sluice/testing';
import mysql from 'mysql2/promise';
import { MysqlChangeSource } from './mysql-change-source.js';
import { MysqlPositionStore } from './mysql-position-store.js';

/** What a private server allows and the shared one must never see: purged binlogs, a killed or frozen server. */
describe('MysqlChangeSource on a private MariaDB (purge, settings, crash, GTID domains, freeze)', () => {
  let server: PrivateMariadb;
  let pool: mysql.Pool;
  let store: MysqlPositionStore;
  let nextId = 1;

  before(async () => {
    server = await startPrivateMariadb();
    pool = mysql.createPool({ uri: server.url, connectionLimit: 4 });
    await pool.query('CREATE TABLE sluice.items (id INT PRIMARY KEY, note VARCHAR(50)) ENGINE=InnoDB');
    store = new MysqlPositionStore(pool);
  });

  after(async () => {
    await pool?.end();
    await server?.destroy();
  });

  const source = (name: string, heartbeatIntervalMs = 5_000) =>
    new MysqlChangeSource({
      url: server.url,
      name,
      positionStore: store,
      tables: ['sluice.items'],
      heartbeatIntervalMs,
    });

  const insert = async (count: number) => {
    for (let i = 0; i < count; i++) {
      await pool.query('INSERT INTO sluice.items VALUES (?, ?)', [nextId, `n${nextId}`]);
      nextId++;
    }
  };

  /** Reads until `count` changes came, retrying what a lost connection or a busy lock fails with. */
  async function readAll(
    s: MysqlChangeSource,
    count: number,
    errors: SluiceError[] = [],
  ): Promise<RowChange[]> {
    const out: RowChange[] = [];
    const deadline = Date.now() + 30_000;
    while (out.length < count && Date.now() < deadline) {
      try {
        out.push(...(await s.read(count - out.length, 200)));
      } catch (error) {
        if (!(error instanceof SluiceError) || !error.retryable) throw error;
        errors.push(error);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    return out;
  }

  it('a stored position whose binlog was purged is a permanent error naming it, what may be lost and how to recover', async () => {
    const s = source('purged');
    let stored: string | undefined;
    try {
      await s.read(1, 0);
      await insert(2);
      const got = await readAll(s, 2);
      await s.acknowledge(got[0]!.position);
      stored = await store.load('purged');
    } finally {
      await s.close();
    }
    await insert(3); // committed after the stored position: in the binlog that is purged next
    // The server keeps the binlog its last checkpoint names (InnoDB writes that checkpoint in the background):
    // flush and purge until only the newest file is left.
    let left: string[] = [];
    for (let attempt = 0; attempt < 100; attempt++) {
      await server.root('FLUSH BINARY LOGS');
      const [logs] = (await pool.query('SHOW BINARY LOGS')) as unknown as [{ Log_name: string }[]];
      await server.root(`PURGE BINARY LOGS TO '${logs.at(-1)!.Log_name}'`);
      const [after] = (await pool.query('SHOW BINARY LOGS')) as unknown as [{ Log_name: string }[]];
      left = after.map((l) => l.Log_name);
      if (left.length === 1) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(left.length, 1, `purged down to the newest binlog: ${left.join(', ')}`);
    const [[{ current }]] = (await pool.query('SELECT @@gtid_binlog_pos AS current')) as unknown as [
      [{ current: string }],
    ];

    const again = source('purged');
    try {
      await assert.rejects(
        () => again.read(10, 0),
        (e: unknown) =>
          e instanceof SluiceError &&
          e.code === 'SLUICE_CDC_POSITION_PURGED' &&
          !e.retryable &&
          e.message.includes(JSON.stringify(stored)) &&
          e.message.includes(JSON.stringify(current)) &&
          /may be lost/.test(e.message) &&
          /backfill/.test(e.message),
      );
      assert.equal(await store.load('purged'), stored, 'the stored position is left as it was, never "now"');
    } finally {
      await again.close();
    }
  });

  it('refuses a server whose binlog would not carry full row images, naming the setting', async () => {
    await server.root("SET GLOBAL binlog_row_image = 'MINIMAL'");
    const s = source('minimal');
    try {
      await assert.rejects(
        () => s.read(1, 0),
        (e: unknown) =>
          e instanceof SluiceError &&
          e.code === 'SLUICE_CDC_SERVER_UNSUITABLE' &&
          !e.retryable &&
          /binlog_row_image is MINIMAL/.test(e.message),
      );
    } finally {
      await s.close();
      await server.root("SET GLOBAL binlog_row_image = 'FULL'");
    }
  });

  it('a server killed mid-stream is a retryable error; reading resumes after the acknowledged change, nothing skipped', async () => {
    const s = source('crash');
    const errors: SluiceError[] = [];
    try {
      await s.read(1, 0);
      const first = nextId;
      await insert(10);
      const got = await readAll(s, 10);
      await s.acknowledge(got[4]!.position); // delivered 5 of them
      await server.restart('SIGKILL');
      await insert(5); // committed while the reader was cut off
      const rest = await readAll(s, 10, errors);
      assert.deepEqual(
        rest.map((c) => c.after!['id']),
        Array.from({ length: 10 }, (_, i) => first + 5 + i),
        'the 5 undelivered changes again, then the 5 written after the crash',
      );
      assert.deepEqual(
        rest.slice(0, 5).map((c) => [c.sequence, c.index]),
        got.slice(5).map((c) => [c.sequence, c.index]),
      );
      assert.ok(errors.length > 0, 'the lost connection surfaced');
      assert.ok(errors.every((e) => e.retryable));
      await s.acknowledge(rest.at(-1)!.position);
    } finally {
      await s.close();
    }
  });

  // Last but one: it leaves a second GTID domain in this server's binlog.
  it('a change from a second GTID domain, whose sequence numbers cannot be ordered with the first, is a permanent error', async () => {
    const s = source('domains');
    try {
      await s.read(1, 0);
      await insert(1);
      assert.equal((await readAll(s, 1)).length, 1);
      const c = await pool.getConnection();
      try {
        await c.query('SET SESSION gtid_domain_id = 7');
        await c.query('INSERT INTO sluice.items VALUES (?, ?)', [nextId++, 'domain 7']);
      } finally {
        c.destroy();
      }
      await assert.rejects(
        () => readAll(s, 1),
        (e: unknown) =>
          e instanceof SluiceError &&
          e.code === 'SLUICE_CDC_UNSUPPORTED_GTID' &&
          !e.retryable &&
          /7-1-\d+/.test(e.message),
      );
    } finally {
      await s.close();
    }
  });

  it('a frozen server (connection open, silent) is noticed by the missing heartbeats while idle', async () => {
    const s = source('frozen', 300);
    try {
      await s.read(1, 0);
      server.signal('SIGSTOP');
      let failure: unknown;
      try {
        const deadline = Date.now() + 20_000;
        while (failure === undefined && Date.now() < deadline) {
          await s.read(10, 500).catch((e: unknown) => {
            failure = e;
          });
        }
      } finally {
        server.signal('SIGCONT');
      }
      assert.ok(failure instanceof SluiceError && failure.retryable, `a retryable error: ${String(failure)}`);
      assert.match(failure.message, /heartbeat/);
      await insert(1);
      assert.equal((await readAll(s, 1)).length, 1, 'reading again once the server answers');
    } finally {
      await s.close();
    }
  });
});
