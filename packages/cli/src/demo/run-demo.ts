import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type ConsumeOutcome, consume, decodeEnvelope, sleep } from '@sluice/core';
import { EnrollmentsService, enrollmentProjection, RolledBack } from '@sluice/example-enrollments';
import { createLogTransport, createSqliteInbox, createSqliteOutbox, openDatabase } from '@sluice/sqlite';
import type { DemoCounters, DemoSummary } from './demo-state.js';
import { percentile } from './percentile.js';
import { killHard, spawnSluice } from './relay-process.js';

export interface DemoOptions {
  readonly events: number;
  readonly durationS: number;
  readonly rollbackRate: number;
  readonly failRate: number;
  readonly relayKills: number;
  readonly dir?: string;
  readonly progress: (line: string, final?: boolean) => void;
}

const GROUP = 'enrollment-view';

/**
 * The demo: the enrollments service commits (and sometimes rolls back) business transactions with outbox
 * appends; a pair of relay child processes (one active, one standby) ships them to the embedded log, the active one
 * SIGKILLed mid-stream; a
 * consumer materializes them with an inbox, its handler failing once for some events and always for
 * payment-failed cancellations. Then the consumer's own tables are checked against what the producer committed.
 */
export async function runDemo(o: DemoOptions): Promise<{ summary: DemoSummary; dir: string }> {
  const dir = resolve(o.dir ?? mkdtempSync(join(tmpdir(), 'sluice-demo-')));
  mkdirSync(dir, { recursive: true });
  const started = performance.now();
  const appDb = openDatabase(join(dir, 'app.db'));
  const outbox = createSqliteOutbox(appDb, { source: 'urn:service:enrollments', migrate: true });
  const service = new EnrollmentsService(appDb, outbox);
  for (let i = 0; i < 37; i++) service.openCourse(`C-${100 + i}`, 1_000_000);
  const consumerDb = openDatabase(join(dir, 'consumer.db'));
  const bus = createLogTransport({ path: join(dir, 'bus.db') });
  const c: DemoCounters = {
    committed: new Map(),
    rolledBack: new Set(),
    deadLettered: new Set(),
    duplicates: 0,
    retries: 0,
    relayKills: 0,
  };
  const failOnce = (id: string) => hashFraction(id) < o.failRate;
  const inbox = createSqliteInbox(consumerDb, { migrate: true });
  let replaying = false;
  let replaySuppressed = 0;
  const startConsumer = (replay: boolean) =>
    consume({
      transport: bus,
      group: GROUP,
      inbox,
      // The replay's retries of dead-lettered events go to a topic of their own, so `sluice dlq list` shows each once.
      ...(replay ? { replay: { to: 'earliest' as const }, deadLetterTopic: `${GROUP}.replay.dlq` } : {}),
      handlers: enrollmentProjection(consumerDb, {
        shouldFail: (event, attempt) =>
          (event.type === 'enrollment.cancelled' && event.data['reason'] === 'payment-failed') ||
          (attempt === 1 && failOnce(event.id)),
      }),
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
    '--db',
    join(dir, 'app.db'),
    '--log',
    join(dir, 'bus.db'),
    '--contracts',
    import.meta.resolve('@sluice/example-enrollments'),
    '--lease-ttl-ms',
    '300',
  ];
  // Two relay instances: one publishes, the other stands by and takes over when the first is killed.
  const relays = [await spawnSluice(relayArgs), await spawnSluice(relayArgs)];
  const applied = consumerDb.prepare('SELECT count(*) FROM side_effects').pluck();
  const report = (phase: string, final = false) =>
    o.progress(
      `${phase}: committed ${c.committed.size}, rolled back ${c.rolledBack.size}, applied ${applied.get() as number}, ` +
        `retries ${c.retries}, dead-lettered ${c.deadLettered.size}, relay kills ${c.relayKills}`,
      final,
    );
  const ticker = setInterval(
    () => report(c.committed.size + c.rolledBack.size < o.events ? 'producing' : 'draining'),
    250,
  );

  try {
    // Produce at a steady rate, killing the relay at evenly spaced points.
    const active: string[] = [];
    const killAt = Array.from({ length: o.relayKills }, (_, i) =>
      Math.floor(((i + 1) * o.events) / (o.relayKills + 1)),
    );
    const t0 = performance.now();
    for (let n = 0; n < o.events; n++) {
      const due = t0 + (n * o.durationS * 1000) / o.events;
      if (performance.now() < due) await sleep(due - performance.now());
      if (killAt.includes(n)) {
        // Kill whichever instance holds the lease (the standby takes over), then start a new standby.
        const holder = appDb
          .prepare("SELECT owner FROM sluice_relay_lease WHERE name = 'outbox'")
          .pluck()
          .get() as string | undefined;
        const victim = relays.find((p) => holder?.includes(`:${p.pid}:`)) ?? relays[0]!;
        await killHard(victim);
        c.relayKills++;
        relays.splice(relays.indexOf(victim), 1, await spawnSluice(relayArgs));
      }
      const rollback = Math.random() < o.rollbackRate;
      try {
        const r = Math.random();
        if (active.length === 0 || r < 0.4) {
          const result = service.enroll(`C-${100 + (n % 37)}`, `S-${n}`, { failAfterAppend: rollback });
          active.push(result.key);
          c.committed.set(result.id, result.key);
        } else if (r < 0.87) {
          const id = active[Math.floor(Math.random() * active.length)]!;
          const result = service.recordProgress(id, Math.floor(Math.random() * 101), {
            failAfterAppend: rollback,
          });
          c.committed.set(result.id, result.key);
        } else {
          const i = Math.floor(Math.random() * active.length);
          const reason = Math.random() < 0.05 ? 'payment-failed' : 'student-request';
          const result = service.cancel(active[i]!, reason, { failAfterAppend: rollback });
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
    while (Date.now() < deadline && (applied.get() as number) + c.deadLettered.size < c.committed.size)
      await sleep(50);
    await sleep(300); // let late duplicates (if any) arrive before counting
  } finally {
    clearInterval(ticker);
    await Promise.all(relays.map(killHard));
    await consumer.stop();
  }
  // Replay the whole topic to the same group: every event arrives again, and the inbox must skip each one.
  const appliedBeforeReplay = applied.get() as number;
  replaying = true;
  consumer = startConsumer(true);
  const replayDeadline = Date.now() + 20_000;
  while (replaySuppressed < appliedBeforeReplay && Date.now() < replayDeadline) await sleep(50);
  await consumer.stop();
  report('done', true);

  const rows = consumerDb.prepare('SELECT event_id, applied, latency_ms FROM side_effects').all() as {
    event_id: string;
    applied: number;
    latency_ms: number;
  }[];
  const delivered = new Set(rows.map((r) => r.event_id));
  const lost = [...c.committed.keys()].filter((id) => !delivered.has(id) && !c.deadLettered.has(id)).length;
  const phantom = rows.filter((r) => c.rolledBack.has(r.event_id) || !c.committed.has(r.event_id)).length;
  const appliedMoreThanOnce = rows.filter((r) => r.applied > 1).length;
  const orderViolations = consumerDb.prepare('SELECT count(*) FROM order_violations').pluck().get() as number;
  const latencies = rows.map((r) => r.latency_ms);
  const summary: DemoSummary = {
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
  await bus.close();
  appDb.close();
  consumerDb.close();
  return { summary, dir };
}

/** A stable number in [0, 1) from an id, so "fails once" is decided per event, not per attempt. */
function hashFraction(id: string): number {
  let h = 2166136261;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619);
  return (h >>> 0) / 2 ** 32;
}
