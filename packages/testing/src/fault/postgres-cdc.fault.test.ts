/**
 * PostgreSQL change data capture under fire: four writers insert, update and delete rows of a legacy table
 * (10% of transactions rolled back) while the CDC relay process (logical replication slot → embedded log) is
 * SIGKILLed again and again, and the server itself is restarted (fast, then immediate: a crash and recovery).
 * Afterwards the table materialized from the events on the bus must equal the table row for row, every write
 * whose commit was acknowledged must be on the bus, nothing rolled back may be, and each key's events must
 * follow commit order. The server is a private cluster, never the shared one.
 *
 * A second table, `catalog`, holds 20,000 rows from before the slot existed: only the initial snapshot (a
 * watermark backfill, which the relay runs while it is killed and the server restarts) can bring them, while a
 * fifth writer changes them. Its materialized copy must equal it too.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { killHard } from '@sluice/cli';
import { decodeEnvelope, sleep } from '@sluice/core';
import { createChangeCapture } from '@sluice/postgres';
import { createLogTransport } from '@sluice/sqlite';
import pg from 'pg';
import { catalogTableSql, cdcCatalog } from './cdc-catalog.js';
import { cdcCourses, coursesTableSql } from './cdc-courses.js';
import { firstMessage, forkFixture } from './child.js';
import { isConnectionError } from './outage-tolerant-writers.js';
import { type PrivatePostgres, startPrivatePostgres } from './private-postgres.js';

const WRITE_SECONDS = 12;
const ROWS = 40;
const CATALOG_ROWS = 20_000;
const RESTARTS: readonly { at: number; mode: 'fast' | 'immediate' }[] = [
  { at: 4, mode: 'fast' },
  { at: 8, mode: 'immediate' },
];

interface Write {
  readonly id: number;
  readonly title: string | null; // null: a delete
  readonly outcome: 'committed' | 'rolled back' | 'unknown';
}

describe('PostgreSQL CDC: the reader SIGKILLed and the server restarted mid-stream', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-cdc-fault-'));
  let server: PrivatePostgres | undefined;
  after(async () => {
    await server?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the table materialized from the bus equals the source table; no committed change skipped', {
    timeout: 240_000,
  }, async (t) => {
    server = await startPrivatePostgres();
    const url = server.url;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(coursesTableSql('courses'));
    for (const sql of catalogTableSql('catalog', CATALOG_ROWS)) await admin.query(sql);
    await createChangeCapture(admin, {
      slot: 'cdc_fault',
      publication: 'cdc_fault_pub',
      tables: ['courses', 'catalog'],
      fullBeforeImages: true,
    });
    await admin.end();
    const busPath = join(dir, 'bus.db');
    const log = join(dir, 'relay.log');

    let relay: ChildProcess | undefined;
    const startRelay = async () => {
      const fd = openSync(log, 'a');
      const args = [url, 'cdc_fault', 'cdc_fault_pub', busPath, 'public.catalog'];
      const child = forkFixture('cdc-relay-process', args, {
        stderr: fd,
      });
      closeSync(fd);
      await firstMessage(child);
      relay = child;
    };

    // Writers: each transaction writes one row with a title no other write uses.
    const writes: Write[] = [];
    let stop = false;
    const writer = async (w: number) => {
      let n = 0;
      while (!stop) {
        const client = new pg.Client({ connectionString: url });
        client.on('error', () => undefined);
        try {
          await client.connect();
        } catch {
          await sleep(50);
          continue;
        }
        try {
          while (!stop) {
            const id = 1 + Math.floor(Math.random() * ROWS);
            const title = `w${w}-${n++}`;
            const del = Math.random() < 0.15;
            const rollback = Math.random() < 0.1;
            await client.query('BEGIN');
            if (del) await client.query('DELETE FROM courses WHERE id = $1', [id]);
            else {
              await client.query(
                `INSERT INTO courses VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO UPDATE SET title = excluded.title, published = excluded.published`,
                [id, title, n % 2 === 0],
              );
            }
            if (rollback) {
              await client.query('ROLLBACK');
              writes.push({ id, title: del ? null : title, outcome: 'rolled back' });
              continue;
            }
            try {
              await client.query('COMMIT');
              writes.push({ id, title: del ? null : title, outcome: 'committed' });
            } catch (error) {
              writes.push({ id, title: del ? null : title, outcome: 'unknown' });
              throw error;
            }
          }
        } catch (error) {
          if (!isConnectionError(error)) throw error;
          await sleep(50); // the server is restarting
        } finally {
          await client.end().catch(() => undefined);
        }
      }
    };

    // The catalog's writer: updates, deletes and inserts while the backfill runs; outcomes don't matter here,
    // the table does.
    let catalogWrites = 0;
    const catalogWriter = async () => {
      while (!stop) {
        const client = new pg.Client({ connectionString: url });
        client.on('error', () => undefined);
        try {
          await client.connect();
          while (!stop) {
            const id = 1 + Math.floor(Math.random() * (CATALOG_ROWS + 1000));
            const r = Math.random();
            if (r < 0.1) await client.query('DELETE FROM catalog WHERE id = $1', [id]);
            else {
              await client.query(
                `INSERT INTO catalog VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO UPDATE SET label = excluded.label, stock = catalog.stock + 1`,
                [id, `live-${catalogWrites}`, 0],
              );
            }
            catalogWrites++;
          }
        } catch (error) {
          if (!isConnectionError(error)) throw error;
          await sleep(50);
        } finally {
          await client.end().catch(() => undefined);
        }
      }
    };

    await startRelay();
    const started = Date.now();
    const writers = [...[1, 2, 3, 4].map(writer), catalogWriter()];
    let kills = 0;
    let restarts = 0;
    const chaos = (async () => {
      const pending = [...RESTARTS];
      while (Date.now() - started < WRITE_SECONDS * 1000) {
        await sleep(700 + Math.random() * 800);
        const next = pending[0];
        if (next !== undefined && Date.now() - started >= next.at * 1000) {
          pending.shift();
          await server!.restart(next.mode);
          restarts++;
        }
        await killHard(relay!);
        kills++;
        await startRelay();
      }
    })();
    await chaos;
    stop = true;
    await Promise.all(writers);

    // The truth: the table as it is now.
    const check = new pg.Client({ connectionString: url });
    await check.connect();
    const table = new Map(
      (
        await check.query<{ id: number; title: string; published: boolean }>('SELECT * FROM courses')
      ).rows.map((r) => [`course-${r.id}`, { title: r.title, published: r.published }]),
    );
    const catalog = new Map(
      (await check.query<{ id: number; label: string; stock: number }>('SELECT * FROM catalog')).rows.map(
        (r) => [`item-${r.id}`, `${r.label}/${r.stock}`],
      ),
    );
    const untouched = [...catalog.values()].filter((v) => v.startsWith('initial-')).length;

    // Read the bus until its materialized state equals the table (the last relay catches up), or time out.
    const bus = createLogTransport({ path: busPath });
    let state = new Map<string, { title: string; published: boolean }>();
    let titles = new Set<string>();
    let orderViolations: string[] = [];
    let events = 0;
    let distinct = 0;
    let catalogState: Awaited<ReturnType<typeof materializeCatalog>> = {
      state: new Map(),
      orderViolations: [],
    };
    const deadline = Date.now() + 60_000;
    try {
      for (;;) {
        const records = await bus.read(cdcCourses.name, { to: 'earliest' }, 10_000_000);
        const applied = new Set<string>();
        const lastSequence = new Map<string, number>();
        state = new Map();
        titles = new Set();
        orderViolations = [];
        for (const r of records) {
          const e = decodeEnvelope(r.value);
          if (applied.has(e.id)) continue; // an inbox skips what a killed reader left to be read again
          applied.add(e.id);
          const previous = lastSequence.get(r.key) ?? 0;
          if (e.sequence < previous) orderViolations.push(`${r.key}: ${previous} then ${e.sequence}`);
          lastSequence.set(r.key, e.sequence);
          const data = e.data as { courseId: string; title?: string; published?: boolean };
          if (e.type === 'course.removed') state.delete(data.courseId);
          else {
            state.set(data.courseId, { title: data.title!, published: data.published! });
            titles.add(data.title!);
          }
        }
        events = records.length;
        distinct = applied.size;
        catalogState = await materializeCatalog(bus);
        if ((equal(state, table) && sameCatalog(catalogState.state, catalog)) || Date.now() > deadline) break;
        await sleep(250);
      }
    } finally {
      await bus.close();
    }
    await killHard(relay!);
    const backfill = await check.query<{ status: string; rows_delivered: string }>(
      'SELECT status, rows_delivered FROM sluice.cdc_backfill',
    );
    await check.end();

    const committed = writes.filter((w) => w.outcome === 'committed');
    const missing = committed.filter((w) => w.title !== null && !titles.has(w.title));
    const invented = writes.filter(
      (w) => w.outcome === 'rolled back' && w.title !== null && titles.has(w.title),
    );
    t.diagnostic(
      `${committed.length} transactions committed, ${writes.filter((w) => w.outcome === 'rolled back').length} rolled back, ${writes.filter((w) => w.outcome === 'unknown').length} of unknown outcome; relay SIGKILLed ${kills} times, server restarted ${restarts} times; ${events} events on the bus, ${distinct} distinct; ${table.size} rows`,
    );
    const relayLog = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-20).join('\n') : '';
    assert.ok(committed.length > 200, `only ${committed.length} transactions committed`);
    assert.equal(restarts, RESTARTS.length);
    assert.ok(kills >= 5, `the relay was killed ${kills} times`);
    assert.deepEqual(
      missing.slice(0, 5),
      [],
      `${missing.length} committed writes never reached the bus\n${relayLog}`,
    );
    assert.deepEqual(invented.slice(0, 5), [], 'rolled-back writes reached the bus');
    assert.deepEqual(orderViolations.slice(0, 5), [], 'events of a key out of commit order');
    assert.ok(equal(state, table), `the materialized table differs from the source table\n${relayLog}`);

    t.diagnostic(
      `catalog: ${catalogWrites} live writes, ${catalog.size} rows of which ${untouched} only a snapshot can carry; backfill ${JSON.stringify(backfill.rows)}`,
    );
    assert.deepEqual(
      backfill.rows.map((r) => r.status),
      ['done'],
      'the initial snapshot was not requested once and finished',
    );
    const resumes = existsSync(log)
      ? readFileSync(log, 'utf8')
          .split('\n')
          .filter((l) => l.includes('"backfill started"') && l.includes('"resumedAfter"')).length
      : 0;
    t.diagnostic(`the backfill resumed ${resumes} times after a kill or a restart`);
    assert.ok(resumes >= 1, 'no kill fell inside the backfill');
    assert.ok(untouched > CATALOG_ROWS / 2, `only ${untouched} catalog rows were left to the snapshot`);
    assert.ok(catalogWrites > 200, `only ${catalogWrites} live catalog writes`);
    assert.deepEqual(catalogState.orderViolations.slice(0, 5), [], 'catalog events of an item out of order');
    assert.ok(
      sameCatalog(catalogState.state, catalog),
      `the materialized catalog differs from the table: ${catalogState.state.size} rows vs ${catalog.size}\n${relayLog}`,
    );
  });
});

/** The catalog as a consumer of its entity topic holds it: the latest event per item, skipping repeated ids. */
async function materializeCatalog(bus: ReturnType<typeof createLogTransport>) {
  const records = await bus.read(cdcCatalog.name, { to: 'earliest' }, 10_000_000);
  const state = new Map<string, string>();
  const applied = new Set<string>();
  const lastSequence = new Map<string, number>();
  const orderViolations: string[] = [];
  for (const r of records) {
    const e = decodeEnvelope(r.value);
    if (applied.has(e.id)) continue;
    applied.add(e.id);
    const previous = lastSequence.get(r.key) ?? 0;
    if (e.sequence < previous) orderViolations.push(`${r.key}: ${previous} then ${e.sequence}`);
    lastSequence.set(r.key, e.sequence);
    const data = e.data as { itemId: string; label?: string; stock?: number };
    if (e.type === 'catalog.item.removed') state.delete(data.itemId);
    else state.set(data.itemId, `${data.label}/${data.stock}`);
  }
  return { state, orderViolations };
}

function sameCatalog(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

function equal(
  a: ReadonlyMap<string, { title: string; published: boolean }>,
  b: ReadonlyMap<string, { title: string; published: boolean }>,
): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (w === undefined || w.title !== v.title || w.published !== v.published) return false;
  }
  return true;
}
