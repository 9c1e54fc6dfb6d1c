import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type ConsumedRecord, decodeEnvelope } from '@sluice/core';
import { sleep } from '@sluice/core/adapter';
import { enrollmentsTopic } from '@sluice/example-enrollments';
import { createPostgresOutbox } from '@sluice/postgres';
import { createLogTransport } from '@sluice/sqlite';
import pg from 'pg';
import { postgresProducer } from './postgres-producer.js';
import { spawnRelay } from './relay-launcher.js';
import { killHard } from './sluice-process.js';

const url = process.env['SLUICE_TEST_PG_URL'];
if (!url)
  throw new Error('SLUICE_TEST_PG_URL is not set: run the tests with `npm test` (it starts PostgreSQL)');

const SECONDS = Number(process.env['SLUICE_FAILOVER_SECONDS'] ?? 40);
const LEASE_TTL_MS = 2000;
/** A survivor renews every third of the TTL: the dead relay's leases expire, then the next renewal takes them. */
const FAILOVER_BOUND_MS = LEASE_TTL_MS + LEASE_TTL_MS / 3 + 1500;

/**
 * Scale-out under fire: two `sluice relay` processes share one PostgreSQL outbox (8 of the 16 key partitions
 * each) while writers append continuously; every few seconds one of them is SIGKILLed. The survivor must take
 * the dead one's partitions within the lease bound and go on in order; the restarted one gets its share back.
 * A consumer reading the bus must see every committed event, none rolled back, each key's events in sequence
 * order with no gap.
 */
describe('PostgreSQL relays scaled out: one of two SIGKILLed every few seconds', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pg-failover-'));
  const schema = `failover_${Math.random().toString(36).slice(2, 10)}`;
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  });

  it('fails over within the lease bound and delivers every event in order per key, gap-free', {
    timeout: (SECONDS + 120) * 1000,
  }, async () => {
    const producer = await postgresProducer(url, schema);
    const monitor = await createPostgresOutbox(pool, { source: 'urn:sluice:monitor', schema });
    const busPath = join(dir, 'bus.db');
    const bus = createLogTransport({ path: busPath });
    await bus.ensureTopic(enrollmentsTopic);

    const committed = new Map<string, string>();
    const rolledBack = new Set<string>();
    let drainDeadline = Number.POSITIVE_INFINITY;
    // The consumer: first delivery of each event, in the order the bus hands them out.
    const firstSeen = new Map<string, { key: string; sequence: number }>();
    const order = new Map<string, number[]>();
    let consuming = true;
    const subscription = await bus.subscribe({ group: 'failover-check', topics: [enrollmentsTopic.name] });
    const consumer = (async () => {
      while (consuming || firstSeen.size < committed.size) {
        const records: ConsumedRecord[] = await subscription.poll({ maxRecords: 500, maxWaitMs: 200 });
        for (const r of records) {
          const e = decodeEnvelope(r.value!);
          if (firstSeen.has(e.id)) continue;
          firstSeen.set(e.id, { key: e.subject!, sequence: Number(e.sluiceseq) });
          order.set(e.subject!, [...(order.get(e.subject!) ?? []), Number(e.sluiceseq)]);
        }
        if (records.length > 0) await subscription.commit(records);
        if (!consuming && records.length === 0 && Date.now() > drainDeadline) break;
      }
    })();

    const args = [
      '--db',
      url,
      '--schema',
      schema,
      '--log',
      busPath,
      '--contracts',
      import.meta.resolve('@sluice/example-enrollments'),
      '--lease-ttl-ms',
      String(LEASE_TTL_MS),
    ];
    const relays: ChildProcess[] = [await spawnRelay(args), await spawnRelay(args)];
    const ownersOf = async () => (await monitor.stats()).partitions.map((p) => p.owner);
    const failovers: number[] = [];
    let balancedAfterRestart = 0;

    let producing = true;
    const chaos = (async () => {
      while (producing) {
        await sleep(1000 + Math.random() * 1500);
        if (!producing) break;
        const i = Math.floor(Math.random() * relays.length);
        const victim = relays[i]!;
        const survivor = relays[1 - i]!;
        await killHard(victim);
        const killedAt = Date.now();
        // Wait until the survivor owns every partition.
        for (;;) {
          const owners = await ownersOf();
          if (owners.every((o) => o?.includes(`:${survivor.pid}:`))) break;
          assert.ok(
            Date.now() - killedAt < 4 * FAILOVER_BOUND_MS,
            `no failover after ${Date.now() - killedAt} ms: ${JSON.stringify(owners)}`,
          );
          await sleep(50);
        }
        failovers.push(Date.now() - killedAt);
        relays[i] = await spawnRelay(args);
        // The restarted relay gets its share back at the next renewals.
        const restartedAt = Date.now();
        for (;;) {
          const owners = await ownersOf();
          const mine = owners.filter((o) => o?.includes(`:${relays[i]!.pid}:`)).length;
          if (mine === 8) {
            balancedAfterRestart++;
            break;
          }
          if (Date.now() - restartedAt > 3 * LEASE_TTL_MS || !producing) break;
          await sleep(50);
        }
      }
    })();

    const t0 = Date.now();
    await producer.produce(() => Date.now() - t0 >= SECONDS * 1000, committed, rolledBack);
    producing = false;
    await chaos;
    drainDeadline = Date.now() + 60_000;
    consuming = false;
    await consumer;
    await Promise.all(relays.map(killHard));
    await subscription.close();
    await bus.close();
    await monitor.close();
    await producer.close();

    const lost = [...committed.keys()].filter((id) => !firstSeen.has(id));
    const phantom = [...firstSeen.keys()].filter((id) => !committed.has(id));
    const outOfOrder: string[] = [];
    for (const [key, seqs] of order) {
      if (!seqs.every((s, i) => s === i + 1)) outOfOrder.push(`${key}: ${seqs.join(',')}`);
    }
    console.log(
      `committed ${committed.size}, rolled back ${rolledBack.size}, delivered ${firstSeen.size}, keys ${order.size}, relay kills ${failovers.length}, failover ms max ${Math.max(...failovers)} median ${failovers.sort((a, b) => a - b)[Math.floor(failovers.length / 2)]}, rebalanced after restart ${balancedAfterRestart}`,
    );
    assert.ok(failovers.length >= Math.floor(SECONDS / 8), `only ${failovers.length} kills`);
    assert.deepEqual(lost.slice(0, 5), [], `${lost.length} committed events never arrived`);
    assert.deepEqual(phantom.slice(0, 5), [], `${phantom.length} delivered events were never committed`);
    assert.deepEqual(
      [...rolledBack].filter((id) => firstSeen.has(id)).slice(0, 5),
      [],
      'rolled-back events were delivered',
    );
    assert.deepEqual(outOfOrder.slice(0, 5), [], `${outOfOrder.length} keys out of order or with a gap`);
    assert.ok(
      Math.max(...failovers) <= FAILOVER_BOUND_MS,
      `slowest failover ${Math.max(...failovers)} ms, bound ${FAILOVER_BOUND_MS} ms`,
    );
    assert.ok(balancedAfterRestart >= failovers.length - 1, 'restarted relays got their share back');
  });
});
