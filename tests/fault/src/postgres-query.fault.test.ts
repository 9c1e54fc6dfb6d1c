/**
 * Query-based liberation under fire: three writers insert and update rows of a legacy table on the shared
 * PostgreSQL (10% of transactions rolled back, some stamped before a later one commits) while the relay
 * process polling it (timestamp+incrementing mode, cursor in a FilePositionStore, embedded log) is SIGKILLed
 * again and again. Afterwards the table materialized from the bus must equal the table row for row, no
 * rolled-back title may be on the bus, nothing may be invented, and each key's events must follow the order
 * of its versions. (Polling cannot promise every intermediate version: only the final state and order.)
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sleep } from '@sluice/core/adapter';
import pg from 'pg';
import { forkReady } from './child.js';
import { materializeBus } from './materialize-bus.js';
import { itemsTableSql, queryItems } from './query-items.js';
import { killHard } from './sluice-process.js';

const WRITE_SECONDS = 8;
const ROWS = 30;

interface Write {
  readonly id: number;
  readonly title: string;
  readonly outcome: 'committed' | 'rolled back';
}

const url = process.env['SLUICE_TEST_PG_URL'];

describe('PostgreSQL query-based liberation: the polling relay SIGKILLed mid-stream', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-query-fault-'));
  const schema = `qfault_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  admin.on('error', () => undefined);
  after(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the table materialized from the bus equals the table; nothing rolled back, per-key order held', {
    timeout: 120_000,
  }, async (t) => {
    assert.ok(url, 'SLUICE_TEST_PG_URL is not set: run `eval "$(bash scripts/services postgres)"` first');
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.query(itemsTableSql(`${schema}.items`));
    for (let id = 1; id <= ROWS; id++)
      await admin.query(`INSERT INTO ${schema}.items (title) VALUES ('seed-${id}')`);
    const busPath = join(dir, 'bus.db');
    const log = join(dir, 'relay.log');
    let relay: Awaited<ReturnType<typeof forkReady>> | undefined;
    const startRelay = async () => {
      relay = await forkReady(
        'query-relay-process',
        [url, schema, join(dir, 'positions.json'), busPath],
        log,
      );
    };

    const writes: Write[] = [];
    let stop = false;
    const writer = async (w: number) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        for (let n = 0; !stop; n++) {
          const title = `w${w}-${n}`;
          const rollback = Math.random() < 0.1;
          await client.query('BEGIN');
          let id: number;
          if (Math.random() < 0.2) {
            const r = await client.query<{ id: number }>(
              `INSERT INTO ${schema}.items (title) VALUES ($1) RETURNING id`,
              [title],
            );
            id = r.rows[0]!.id;
          } else {
            id = 1 + Math.floor(Math.random() * ROWS);
            await client.query(
              `UPDATE ${schema}.items SET title = $1, updated_at = clock_timestamp() WHERE id = $2`,
              [title, id],
            );
          }
          await sleep(Math.random() * 10); // stamped now, committed a little later: others commit in between
          await client.query(rollback ? 'ROLLBACK' : 'COMMIT');
          writes.push({ id, title, outcome: rollback ? 'rolled back' : 'committed' });
        }
      } finally {
        await client.end().catch(() => undefined);
      }
    };

    await startRelay();
    const started = Date.now();
    const writers = [1, 2, 3].map(writer);
    let kills = 0;
    while (Date.now() - started < WRITE_SECONDS * 1000) {
      await sleep(600 + Math.random() * 800);
      await killHard(relay!);
      kills++;
      await startRelay();
    }
    stop = true;
    await Promise.all(writers);

    const table = new Map(
      (await admin.query<{ id: number; title: string }>(`SELECT id, title FROM ${schema}.items`)).rows.map(
        (r) => [`item-${r.id}`, r.title],
      ),
    );
    const committed = new Set(writes.filter((w) => w.outcome === 'committed').map((w) => w.title));
    const rolledBack = new Set(writes.filter((w) => w.outcome === 'rolled back').map((w) => w.title));

    // Read the bus until its materialized state equals the table (the last relay catches up), or time out.
    const titlesOnBus = new Set<string>();
    const {
      state,
      orderViolations,
      records: events,
      distinct,
    } = await materializeBus<string>(
      busPath,
      queryItems.name,
      (state, key, e) => {
        const { title } = e.data as { title: string };
        state.set(key, title);
        titlesOnBus.add(title);
      },
      (state) => equal(state, table),
    );
    await killHard(relay!);

    const invented = [...titlesOnBus].filter((x) => !x.startsWith('seed-') && !committed.has(x));
    const leaked = [...titlesOnBus].filter((x) => rolledBack.has(x));
    t.diagnostic(
      `${committed.size} transactions committed, ${rolledBack.size} rolled back; relay SIGKILLed ${kills} times; ${events} events on the bus, ${distinct} distinct (${titlesOnBus.size} versions of ${table.size} rows)`,
    );
    const relayLog = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-20).join('\n') : '';
    assert.ok(committed.size > 100, `only ${committed.size} transactions committed`);
    assert.ok(kills >= 4, `the relay was killed ${kills} times`);
    assert.deepEqual(leaked.slice(0, 5), [], 'rolled-back writes reached the bus');
    assert.deepEqual(invented.slice(0, 5), [], 'titles nobody committed reached the bus');
    assert.deepEqual(orderViolations.slice(0, 5), [], "a key's versions out of order");
    assert.ok(equal(state, table), `the materialized table differs from the source table\n${relayLog}`);
  });
});

function equal(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
