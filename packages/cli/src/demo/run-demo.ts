import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  type ConsumeOutcome,
  createTransport,
  decodeEnvelope,
  SluiceError,
  type Transport,
} from '@sluice/core';
import { sleep } from '@sluice/core/adapter';
import { type ProjectionHooks, RolledBack } from '@sluice/example-enrollments';
import type { DemoCounters, DemoSummary } from './demo-state.js';
import type { DemoStore, DemoStoreInfo } from './demo-store.js';
import { percentile } from './percentile.js';
import { openPostgresDemoStore } from './postgres-demo-store.js';
import { killHard, spawnSluice } from './relay-process.js';
import { openSqliteDemoStore } from './sqlite-demo-store.js';

export interface DemoOptions {
  readonly events: number;
  readonly durationS: number;
  readonly rollbackRate: number;
  readonly failRate: number;
  readonly relayKills: number;
  /** Where to keep the bus (and, on SQLite, the databases). Default: a new temp folder. */
  readonly dir?: string;
  /**
   * Where the service's tables and outbox and the consumer's tables and inbox live: SQLite files in `dir`
   * (default), or a new schema in a PostgreSQL database, dropped at the end unless `keep`.
   */
  readonly store?:
    | { readonly kind: 'sqlite' }
    | { readonly kind: 'postgres'; readonly url: string; readonly keep?: boolean };
  /**
   * The bus: the embedded log in `dir` (default), or a broker. On a broker the run uses a namespace of its own
   * (default `sluice-demo-<random>`), so it never sees another run's events.
   */
  readonly transport?: {
    readonly kind: 'nats' | 'redis' | 'kafka';
    readonly url: string;
    readonly namespace?: string;
  };
  readonly progress: (line: string, final?: boolean) => void;
}

export interface DemoResult {
  readonly summary: DemoSummary;
  /** The folder holding the bus (`bus.db`) and, on SQLite, `app.db` and `consumer.db`. */
  readonly dir: string;
  readonly store: DemoStoreInfo;
  /** The bus: `embedded log` or the broker's transport name, URL and namespace. */
  readonly bus: string;
  /** The CLI arguments that name the bus, e.g. for `sluice tail`. */
  readonly busArgs: readonly string[];
}

const GROUP = 'enrollment-view';

/**
 * The demo: the enrollments service commits (and sometimes rolls back) business transactions with outbox
 * appends; a pair of relay child processes ships them to the bus (on SQLite one is active and one
 * stands by; on PostgreSQL they share the outbox's partitions), and one holding a lease is SIGKILLed
 * mid-stream; a consumer materializes them with an inbox, its handler failing once for some events and always
 * for payment-failed cancellations. Then the consumer's own tables are checked against what the producer
 * committed. The service's and the consumer's databases are SQLite files or a PostgreSQL schema (see
 * {@link DemoOptions.store}); the bus is the embedded log or a broker (see {@link DemoOptions.transport}).
 */
export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const dir = resolve(o.dir ?? mkdtempSync(join(tmpdir(), 'sluice-demo-')));
  mkdirSync(dir, { recursive: true });
  const started = performance.now();
  const failOnce = (id: string) => hashFraction(id) < o.failRate;
  const hooks: ProjectionHooks = {
    shouldFail: (event, attempt) =>
      (event.type === 'enrollment.cancelled' && event.data['reason'] === 'payment-failed') ||
      (attempt === 1 && failOnce(event.id)),
  };
  const store =
    o.store?.kind === 'postgres'
      ? await openPostgresDemoStore({ url: o.store.url, keep: o.store.keep ?? false, hooks })
      : openSqliteDemoStore(dir, hooks);
  const info = store.info();
  if (info.kind === 'postgres') {
    o.progress(
      `PostgreSQL schema ${info.schema} in ${info.database} (${info.kept ? 'kept' : 'dropped'} at the end)`,
      true,
    );
  }
  const broker =
    o.transport === undefined
      ? undefined
      : { ...o.transport, namespace: o.transport.namespace ?? `sluice-demo-${randomSuffix()}` };
  let bus: Transport;
  try {
    bus = await createTransport(broker ?? { kind: 'embedded', path: join(dir, 'bus.db') });
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
  const busArgs =
    broker === undefined
      ? ['--log', join(dir, 'bus.db')]
      : ['--transport', broker.url, '--namespace', broker.namespace];
  const busLabel =
    broker === undefined ? 'embedded log' : `${bus.name} at ${broker.url} (namespace ${broker.namespace})`;
  // Ctrl-C (or SIGTERM) stops the run at the next step, so that the relays are stopped and the store is closed
  // (a PostgreSQL schema dropped) instead of left behind. A second Ctrl-C exits at once.
  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let summary: DemoSummary;
  try {
    summary = await exercise(o, store, busArgs, bus, interrupt.signal, started);
  } catch (error) {
    await bus.close().catch(() => undefined);
    await store.close().catch((cleanup: unknown) => {
      process.stderr.write(`sluice demo: ${cleanup instanceof Error ? cleanup.message : String(cleanup)}\n`);
    });
    throw error;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  await bus.close();
  await store.close();
  return { summary, dir, store: store.info(), bus: busLabel, busArgs };
}

/** Produces, kills relays, drains, replays and checks; leaves closing the bus and the store to the caller. */
async function exercise(
  o: DemoOptions,
  store: DemoStore,
  busArgs: readonly string[],
  bus: Transport,
  interrupted: AbortSignal,
  started: number,
): Promise<DemoSummary> {
  const checkInterrupted = () => {
    if (interrupted.aborted)
      throw new SluiceError('SLUICE_INTERRUPTED', 'the demo was interrupted; nothing was checked');
  };
  const c: DemoCounters = {
    committed: new Map(),
    rolledBack: new Set(),
    deadLettered: new Set(),
    duplicates: 0,
    retries: 0,
    relayKills: 0,
  };
  let replaying = false;
  let replaySuppressed = 0;
  const startConsumer = (replay: boolean) =>
    store.consume({
      transport: bus,
      group: GROUP,
      // The replay's retries of dead-lettered events go to a topic of their own, so `sluice dlq list` shows each once.
      ...(replay ? { replay: { to: 'earliest' as const }, deadLetterTopic: `${GROUP}.replay.dlq` } : {}),
      maxAttempts: 3,
      backoff: { initialMs: 20, maxMs: 200 },
      onOutcome: (outcome: ConsumeOutcome) => {
        if (replaying) {
          if (outcome.kind === 'duplicate') replaySuppressed++;
          return;
        }
        if (outcome.kind === 'duplicate') c.duplicates++;
        else if (outcome.kind === 'retry') c.retries++;
        else if (outcome.kind === 'dead-lettered')
          c.deadLettered.add(decodeEnvelope(outcome.record.value).id);
      },
    });
  let consumer = startConsumer(false);
  const relayArgs = [
    'relay',
    ...store.relayArgs,
    ...busArgs,
    '--contracts',
    import.meta.resolve('@sluice/example-enrollments'),
    '--lease-ttl-ms',
    '300',
  ];
  const spawnRelay = () => spawnSluice(relayArgs, { env: store.relayEnv });
  let applied = 0;
  const report = (phase: string, final = false) =>
    o.progress(
      `${phase}: committed ${c.committed.size}, rolled back ${c.rolledBack.size}, applied ${applied}, ` +
        `retries ${c.retries}, dead-lettered ${c.deadLettered.size}, relay kills ${c.relayKills}`,
      final,
    );
  const ticker = setInterval(() => {
    store.appliedCount().then(
      (n) => {
        applied = n;
        report(c.committed.size + c.rolledBack.size < o.events ? 'producing' : 'draining');
      },
      () => undefined,
    );
  }, 250);
  // Two relay instances. On SQLite one publishes and the other stands by; on PostgreSQL they split the outbox's
  // partitions. Either way the survivor takes over a killed instance's lease once it expires.
  const relays: ChildProcess[] = [];
  try {
    relays.push(await spawnRelay());
    relays.push(await spawnRelay());
    // Produce at a steady rate, killing the relay at evenly spaced points.
    const active: string[] = [];
    const killAt = Array.from({ length: o.relayKills }, (_, i) =>
      Math.floor(((i + 1) * o.events) / (o.relayKills + 1)),
    );
    const t0 = performance.now();
    for (let n = 0; n < o.events; n++) {
      const due = t0 + (n * o.durationS * 1000) / o.events;
      if (performance.now() < due) await sleep(due - performance.now());
      checkInterrupted();
      if (killAt.includes(n)) {
        // Kill an instance that holds a lease (the other takes over), then start a new one.
        const owners = await store.leaseOwners();
        const victim = relays.find((p) => owners.some((owner) => owner.includes(`:${p.pid}:`))) ?? relays[0]!;
        await killHard(victim);
        c.relayKills++;
        relays.splice(relays.indexOf(victim), 1, await spawnRelay());
      }
      const rollback = Math.random() < o.rollbackRate;
      try {
        const r = Math.random();
        if (active.length === 0 || r < 0.4) {
          const result = await store.service.enroll(`C-${100 + (n % 37)}`, `S-${n}`, {
            failAfterAppend: rollback,
          });
          active.push(result.key);
          c.committed.set(result.id, result.key);
        } else if (r < 0.87) {
          const id = active[Math.floor(Math.random() * active.length)]!;
          const result = await store.service.recordProgress(id, Math.floor(Math.random() * 101), {
            failAfterAppend: rollback,
          });
          c.committed.set(result.id, result.key);
        } else {
          const i = Math.floor(Math.random() * active.length);
          const reason = Math.random() < 0.05 ? 'payment-failed' : 'student-request';
          const result = await store.service.cancel(active[i]!, reason, { failAfterAppend: rollback });
          active.splice(i, 1);
          c.committed.set(result.id, result.key);
        }
      } catch (error) {
        if (!(error instanceof RolledBack)) throw error;
        c.rolledBack.add(error.eventId);
      }
    }
    // Drain: wait until every committed event is applied or dead-lettered (bounded).
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && (await store.appliedCount()) + c.deadLettered.size < c.committed.size) {
      checkInterrupted();
      await sleep(50);
    }
    await sleep(300); // let late duplicates (if any) arrive before counting
  } finally {
    clearInterval(ticker);
    await Promise.all(relays.map(killHard));
    await consumer.stop();
  }
  // Replay the whole topic to the same group: every event arrives again, and the inbox must skip each one.
  const appliedBeforeReplay = await store.appliedCount();
  replaying = true;
  consumer = startConsumer(true);
  try {
    const replayDeadline = Date.now() + 20_000;
    while (replaySuppressed < appliedBeforeReplay && Date.now() < replayDeadline) {
      checkInterrupted();
      await sleep(50);
    }
  } finally {
    await consumer.stop();
  }
  applied = await store.appliedCount();
  report('done', true);

  const rows = await store.sideEffects();
  const delivered = new Set(rows.map((r) => r.eventId));
  const lost = [...c.committed.keys()].filter((id) => !delivered.has(id) && !c.deadLettered.has(id)).length;
  const phantom = rows.filter((r) => c.rolledBack.has(r.eventId) || !c.committed.has(r.eventId)).length;
  const appliedMoreThanOnce = rows.filter((r) => r.applied > 1).length;
  const orderViolations = await store.orderViolations();
  const latencies = rows.map((r) => r.latencyMs);
  return {
    committed: c.committed.size,
    rolledBack: c.rolledBack.size,
    delivered: rows.length,
    duplicatesSuppressed: c.duplicates,
    retried: c.retries,
    deadLettered: c.deadLettered.size,
    lost,
    phantom,
    appliedMoreThanOnce,
    orderViolations,
    relayKills: c.relayKills,
    replaySuppressed,
    latencyP50Ms: percentile(latencies, 50),
    latencyP99Ms: percentile(latencies, 99),
    seconds: (performance.now() - started) / 1000,
    ok: lost === 0 && phantom === 0 && appliedMoreThanOnce === 0 && orderViolations === 0,
  };
}

function randomSuffix(): string {
  return Math.random().toString(36).slice(2, 10);
}

/** A stable number in [0, 1) from an id, so "fails once" is decided per event, not per attempt. */
function hashFraction(id: string): number {
  let h = 2166136261;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619);
  return (h >>> 0) / 2 ** 32;
}
