import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createTransport, type TransportConfig } from '@sluice/core';
import { sleep } from '@sluice/core/adapter';
import { EnrollmentsService, enrollmentsTopic, RolledBack } from '@sluice/example-enrollments';
import { createSqliteOutbox, openDatabase } from '@sluice/sqlite';
import { firstMessage, forkFixture } from './child.js';
import { spawnRelay } from './relay-launcher.js';
import { killHard } from './sluice-process.js';

/** What a chaos run observed: what the producer committed and what the consumer's own tables hold. */
export interface ChaosResult {
  readonly committed: Map<string, string>;
  readonly rolledBack: Set<string>;
  readonly rows: { event_id: string; key: string; sequence: number; applied: number }[];
  readonly violations: unknown[];
  readonly inbox: number;
  readonly relayKills: number;
  readonly consumerKills: number;
}

/** The producing side of a chaos run: where the outbox lives and how business transactions are made. */
export interface ChaosProducer {
  /** `sluice relay` arguments naming the outbox (`--db ...`, `--schema ...`). */
  readonly relayArgs: readonly string[];
  /** Makes business transactions until `until()` says stop, recording committed and rolled-back event ids. */
  produce(until: () => boolean, committed: Map<string, string>, rolledBack: Set<string>): Promise<void>;
  close(): Promise<void>;
}

/** The embedded default's producer: the example enrollments service on a SQLite file. */
export function sqliteProducer(dir: string): ChaosProducer {
  const appPath = join(dir, 'app.db');
  const app = openDatabase(appPath);
  const service = new EnrollmentsService(
    app,
    createSqliteOutbox(app, { source: 'urn:service:enrollments', migrate: true }),
  );
  for (let i = 0; i < 13; i++) service.openCourse(`C-${i}`, 1_000_000);
  return {
    relayArgs: ['--db', appPath],
    async produce(until, committed, rolledBack) {
      // New enrollments, progress updates and cancellations; 10% rolled back on purpose.
      const active: string[] = [];
      let n = 0;
      while (!until()) {
        for (let burst = 0; burst < 10; burst++, n++) {
          const rollback = Math.random() < 0.1;
          try {
            const r = Math.random();
            if (active.length < 20 || r < 0.3) {
              const res = service.enroll(`C-${n % 13}`, `S-${n}`, { failAfterAppend: rollback });
              active.push(res.key);
              committed.set(res.id, res.key);
            } else if (r < 0.9) {
              const res = service.recordProgress(
                active[Math.floor(Math.random() * active.length)]!,
                n % 101,
                {
                  failAfterAppend: rollback,
                },
              );
              committed.set(res.id, res.key);
            } else {
              const i = Math.floor(Math.random() * active.length);
              const res = service.cancel(active[i]!, 'student-request', { failAfterAppend: rollback });
              active.splice(i, 1);
              committed.set(res.id, res.key);
            }
          } catch (error) {
            if (!(error instanceof RolledBack)) throw error;
            rolledBack.add(error.eventId);
          }
        }
        await sleep(5);
      }
    },
    async close() {
      app.close();
    },
  };
}

/** A broker for {@link runPipelineChaos}; the embedded log in `dir` when absent. */
export interface ChaosBus {
  /** How the consumer process opens the bus (with the adapter's short session timeout in `options`). */
  readonly config: TransportConfig;
  /** `sluice relay` arguments naming the same bus, e.g. `--transport URL --namespace NS`. */
  readonly relayArgs: readonly string[];
  /** Extra disruption while producing (e.g. restarting the broker); resolves when it is done. */
  readonly disrupt?: (producing: () => boolean) => Promise<void>;
}

/**
 * The whole path under fire, for `seconds`: a producer commits and rolls back business transactions with
 * outbox appends while two relay processes and a consumer process are SIGKILLed at random points, again and
 * again, and restarted (and, on a broker, whatever `bus.disrupt` does). Then the survivors drain, and the
 * consumer's tables are read back.
 */
export async function runPipelineChaos(
  dir: string,
  seconds: number,
  producer: ChaosProducer = sqliteProducer(dir),
  broker?: ChaosBus,
): Promise<ChaosResult> {
  const busPath = join(dir, 'bus.db');
  const consumerPath = join(dir, 'consumer.db');
  const config: TransportConfig = broker?.config ?? { kind: 'embedded', path: busPath };
  const bus = await createTransport(config);
  await bus.ensureTopic(enrollmentsTopic);
  await bus.close();

  const relayArgs = [
    ...producer.relayArgs,
    ...(broker?.relayArgs ?? ['--log', busPath]),
    '--contracts',
    import.meta.resolve('@sluice/example-enrollments'),
    '--lease-ttl-ms',
    '400',
    '--batch-size',
    '200',
  ];
  const relays: ChildProcess[] = [await spawnRelay(relayArgs), await spawnRelay(relayArgs)];
  const startConsumer = async () => {
    const child = forkFixture('consumer-process', [
      consumerPath,
      broker === undefined ? busPath : JSON.stringify(config),
      'member-1',
    ]);
    await firstMessage(child);
    return child;
  };
  let consumer = await startConsumer();

  const committed = new Map<string, string>();
  const rolledBack = new Set<string>();
  let relayKills = 0;
  let consumerKills = 0;
  let producing = true;

  // Chaos: each relay is killed 100-400 ms after it started and restarted at once, independently of the
  // other; the consumer every 200-700 ms.
  const relayChaos = relays.map(async (_, i) => {
    while (producing) {
      await sleep(100 + Math.random() * 300);
      if (!producing) break;
      await killHard(relays[i]!);
      relayKills++;
      relays[i] = await spawnRelay(relayArgs);
    }
  });
  const consumerChaos = (async () => {
    while (producing) {
      await sleep(200 + Math.random() * 500);
      if (!producing) break;
      await killHard(consumer);
      consumerKills++;
      consumer = await startConsumer();
    }
  })();
  const chaos = Promise.all([...relayChaos, consumerChaos, broker?.disrupt?.(() => producing)]);

  // Produce for `seconds`, and on until each process was killed the floor's number of times (process start-up
  // is slow on a loaded machine), but never past three times `seconds`: then the floor's check fails.
  const t0 = Date.now();
  const floor = chaosKillFloor(seconds);
  const done = () => {
    const elapsed = Date.now() - t0;
    if (elapsed >= 3 * seconds * 1000) return true;
    return elapsed >= seconds * 1000 && relayKills >= floor && consumerKills >= floor;
  };
  await producer.produce(done, committed, rolledBack);
  producing = false;
  await chaos;

  // Let the survivors drain everything (bounded).
  const consumerDb = openDatabase(consumerPath);
  const appliedCount = () => {
    try {
      return consumerDb.prepare('SELECT count(*) FROM side_effects').pluck().get() as number;
    } catch {
      return 0;
    }
  };
  const deadline = Date.now() + 90_000;
  while (appliedCount() < committed.size && Date.now() < deadline) await sleep(100);
  await sleep(500);
  await Promise.all([...relays.map(killHard), killHard(consumer)]);

  const rows = consumerDb.prepare('SELECT event_id, key, sequence, applied FROM side_effects').all() as {
    event_id: string;
    key: string;
    sequence: number;
    applied: number;
  }[];
  const violations = consumerDb.prepare('SELECT * FROM order_violations').all();
  const inbox = consumerDb
    .prepare("SELECT count(*) FROM sluice_inbox WHERE consumer_group = 'fault'")
    .pluck()
    .get();
  consumerDb.close();
  await producer.close();

  return { committed, rolledBack, rows, violations, inbox: inbox as number, relayKills, consumerKills };
}

/** Every committed event applied exactly once, in order per key; nothing rolled back or invented. */
export function assertChaosInvariants(
  r: ChaosResult,
  seconds: number,
  t: { diagnostic(message: string): void },
): void {
  const { committed, rolledBack, rows, violations, inbox, relayKills, consumerKills } = r;
  t.diagnostic(
    `committed ${committed.size}, rolled back ${rolledBack.size}, applied ${rows.length}, relay kills ${relayKills}, consumer kills ${consumerKills}`,
  );
  const delivered = new Set(rows.map((r) => r.event_id));
  const lost = [...committed.keys()].filter((id) => !delivered.has(id));
  const phantom = rows.filter((r) => !committed.has(r.event_id) || rolledBack.has(r.event_id));
  const repeated = rows.filter((r) => r.applied !== 1);
  assert.ok(
    committed.size > 1000 && rolledBack.size > 50,
    `committed ${committed.size}, rolled back ${rolledBack.size}`,
  );
  assert.deepEqual(
    lost,
    [],
    `${lost.length} of ${committed.size} committed events never arrived (relay kills ${relayKills}, consumer kills ${consumerKills})`,
  );
  assert.deepEqual(phantom, [], 'events that were rolled back or never committed arrived');
  assert.deepEqual(repeated, [], 'side effects applied more than once');
  assert.deepEqual(violations, [], 'per-key order (sequence) violated');
  assert.equal(inbox, committed.size);
  for (const r of rows) assert.equal(committed.get(r.event_id), r.key);
  // Each restart waits for the new process to be ready, so kills land on running processes at random points;
  // the run goes on until the floor is met (or three times its length, when this fails).
  const floor = chaosKillFloor(seconds);
  assert.ok(relayKills >= floor, `relays were killed ${relayKills} times, fewer than ${floor}`);
  assert.ok(consumerKills >= floor, `the consumer was killed ${consumerKills} times, fewer than ${floor}`);
}

/** How many times a chaos run of `seconds` kills the relays (together) and the consumer, at least. */
export function chaosKillFloor(seconds: number): number {
  return Math.ceil(0.3 * seconds);
}
