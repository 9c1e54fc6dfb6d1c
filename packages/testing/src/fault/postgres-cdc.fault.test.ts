/**
 * PostgreSQL change data capture under fire: four writers insert, update and delete rows of a legacy table
 * (10% of transactions rolled back) while the CDC relay process (logical replication slot → embedded log) is
 * SIGKILLed again and again, and the server itself is restarted (fast, then immediate: a crash and recovery).
 * Afterwards the table materialized from the events on the bus must equal the table row for row, every write
 * whose commit was acknowledged must be on the bus, nothing rolled back may be, and each key's events must
 * follow commit order. The server is a private cluster, never the shared one.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { killHard } from '@sluice/cli';
import { sleep } from '@sluice/core';
import { createChangeCapture } from '@sluice/postgres';
import pg from 'pg';
import { cdcCourses, coursesTableSql } from './cdc-courses.js';
import { forkReady } from './child.js';
import { materializeBus } from './materialize-bus.js';
import { isConnectionError } from './outage-tolerant-writers.js';
import { type PrivatePostgres, startPrivatePostgres } from './private-postgres.js';

const WRITE_SECONDS = 12;
const ROWS = 40;
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
    await createChangeCapture(admin, {
      slot: 'cdc_fault',
      publication: 'cdc_fault_pub',
      tables: ['courses'],
      fullBeforeImages: true,
    });
    await admin.end();
    const busPath = join(dir, 'bus.db');
    const log = join(dir, 'relay.log');

    let relay: ChildProcess | undefined;
    const startRelay = async () => {
      relay = await forkReady('cdc-relay-process', [url, 'cdc_fault', 'cdc_fault_pub', busPath], log);
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

    await startRelay();
    const started = Date.now();
    const writers = [1, 2, 3, 4].map(writer);
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
    await check.end();

    // Read the bus until its materialized state equals the table (the last relay catches up), or time out.
    const titles = new Set<string>();
    const {
      state,
      orderViolations,
      records: events,
      distinct,
    } = await materializeBus<{
      title: string;
      published: boolean;
    }>(
      busPath,
      cdcCourses.name,
      (state, _key, e) => {
        const data = e.data as { courseId: string; title?: string; published?: boolean };
        if (e.type === 'course.removed') state.delete(data.courseId);
        else {
          state.set(data.courseId, { title: data.title!, published: data.published! });
          titles.add(data.title!);
        }
      },
      (state) => equal(state, table),
    );
    await killHard(relay!);

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
  });
});

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
