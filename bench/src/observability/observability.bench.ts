import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createConsumer, createRelay, handle, type Transport } from '@sluice/core';
import { sleep } from '@sluice/core/adapter';
import { EnrollmentProgressed, enrollmentsTopic } from '@sluice/example-enrollments';
import { createLogTransport, createSqliteInbox, createSqliteOutbox, openDatabase } from '@sluice/sqlite';
import type { BenchResult } from '../report.js';
import {
  OBSERVABILITY_SETUPS,
  type ObservabilitySetup,
  type ObservabilitySetupName,
  registerObservability,
} from './observability-setup.js';

/** One configuration's figures in one round. */
interface Round {
  /** Relay drain, events/s. */
  readonly relay: number;
  /** Consumer, events/s, from its first event handled to its last. */
  readonly consume: number;
  /**
   * CPU time of this process (all its threads: V8, GC, SQLite) per event during the relay drain and during
   * the consume, µs: what the configurations add, less disturbed than the rates by other processes.
   */
  readonly relayCpuUs: number;
  readonly consumeCpuUs: number;
  /** From `createConsumer` to its first event handled, ms. */
  readonly startupMs: number;
  /** Spans the in-memory SDK finished during the relay drain and during the consume (0 without it). */
  readonly relaySpans: number;
  readonly consumeSpans: number;
}

/** Events appended per application transaction (each inside one application span when tracing). */
const PER_TRANSACTION = 100;

/**
 * What Sluice's observability costs on the embedded default (SQLite outbox, embedded log, SQLite inbox), in
 * four configurations (see {@link registerObservability}): off; the service's metrics hooks; metrics + an SDK
 * that samples nothing; metrics + an SDK recording every span into memory. Each round runs every configuration
 * once (the order rotates from round to round), each on fresh files:
 * - `events` events over `keys` keys appended (untimed), inside an application span per transaction when an SDK
 *   is registered, so appends make `create` spans and envelopes carry a traceparent (send spans get links,
 *   process spans parents);
 * - relay drain, timed: one relay (batches of 1000) publishes them all to the embedded log;
 * - consume, timed from the first event handled to the last: `createConsumer` with the SQLite inbox and a
 *   handler inserting one row per event, reading the topic the relay filled.
 * Each timed part also records the process's CPU time per event (less disturbed by other processes than the
 * rates, on a shared machine). Rates compare the best round of each configuration to the best round of `off` (medians reported too). A
 * warm-up round of every configuration on a tenth of the events comes first and is not counted.
 */
export async function observabilityBench(
  dir: string,
  events = 100_000,
  keys = 1_000,
  rounds = 5,
): Promise<BenchResult> {
  const ids = Array.from({ length: keys }, () => crypto.randomUUID());
  const runs = new Map<ObservabilitySetupName, Round[]>(OBSERVABILITY_SETUPS.map((s) => [s, []]));
  // Warm-up, not counted: every configuration once on a tenth of the events, so the first measured one does
  // not pay for compiling the code paths the others then reuse.
  for (const name of OBSERVABILITY_SETUPS) {
    const setup = registerObservability(name);
    try {
      await runSetup(join(dir, `warm-up-${name}`), setup, ids, Math.max(1000, Math.floor(events / 10)));
    } finally {
      await setup.close();
    }
  }
  progress('warm-up done');
  for (let round = 0; round < rounds; round++) {
    const order = OBSERVABILITY_SETUPS.map(
      (_, i) => OBSERVABILITY_SETUPS[(i + round) % OBSERVABILITY_SETUPS.length]!,
    );
    for (const name of order) {
      const setup = registerObservability(name);
      try {
        const result = await runSetup(join(dir, `r${round + 1}-${name}`), setup, ids, events);
        runs.get(name)!.push(result);
        progress(
          `round ${round + 1} ${name}: relay ${result.relay.toLocaleString('en-US')}/s, consume ${result.consume.toLocaleString('en-US')}/s`,
        );
      } finally {
        await setup.close();
      }
    }
  }

  const best = (name: ObservabilitySetupName, what: 'relay' | 'consume') =>
    Math.max(...runs.get(name)!.map((r) => r[what]));
  const median = (name: ObservabilitySetupName, what: keyof Round) => {
    const sorted = runs
      .get(name)!
      .map((r) => r[what])
      .sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)]!;
  };
  const figures: Record<string, number> = {};
  for (const what of ['relay', 'consume'] as const) {
    const label = what === 'relay' ? 'relay drain' : 'consume';
    for (const name of OBSERVABILITY_SETUPS) {
      figures[`${label}, ${name}, events/s`] = best(name, what);
      if (name === 'off') continue;
      figures[`${label} ratio ${name}/off`] = best(name, what) / best('off', what);
      figures[`${label} ratio ${name}/off, medians`] = median(name, what) / median('off', what);
      figures[`${label}, ${name}, extra µs per event`] = 1e6 / best(name, what) - 1e6 / best('off', what);
    }
    const cpu = what === 'relay' ? 'relayCpuUs' : 'consumeCpuUs';
    for (const name of OBSERVABILITY_SETUPS) {
      figures[`${label}, ${name}, CPU µs per event, median`] = median(name, cpu);
      if (name !== 'off')
        figures[`${label} CPU ratio off/${name}, medians`] = median('off', cpu) / median(name, cpu);
    }
  }
  figures['consumer startup (to first event), off, median ms'] = median('off', 'startupMs');
  figures['spans recorded per round, in-memory SDK, relay'] = median('metrics+memory-sdk', 'relaySpans');
  figures['spans recorded per round, in-memory SDK, consume'] = median('metrics+memory-sdk', 'consumeSpans');
  figures['spans recorded per round, in-memory SDK 10%, consume'] = median(
    'metrics+memory-sdk-10%',
    'consumeSpans',
  );
  return {
    name: 'observability-overhead',
    description: `${events.toLocaleString('en-US')} events over ${keys} keys: SQLite outbox -> one relay (batches of 1000) -> embedded log -> consumer with the SQLite inbox (synchronous=NORMAL) and a one-row handler; metrics and tracing off/on, best of ${rounds} rounds each, interleaved`,
    figures,
    notes: OBSERVABILITY_SETUPS.map(
      (name) =>
        `${name} (relay/consume events/s per round, CPU µs per event): ${runs
          .get(name)!
          .map(
            (r) =>
              `${r.relay.toLocaleString('en-US')}/${r.consume.toLocaleString('en-US')} (CPU ${r.relayCpuUs.toFixed(1)}/${r.consumeCpuUs.toFixed(1)} µs)`,
          )
          .join(', ')}`,
    ),
  };
}

/** Appends, drains and consumes `events` under `setup`, on files named after `base`, deleted afterwards. */
async function runSetup(
  base: string,
  setup: ObservabilitySetup,
  ids: readonly string[],
  events: number,
): Promise<Round> {
  const files = ['-app.db', '-bus.db', '-inbox.db'].map((f) => base + f) as [string, string, string];
  const [appPath, busPath, inboxPath] = files;
  const app = openDatabase(appPath);
  const bus = createLogTransport({ path: busPath });
  // The inbox commits once per event (it has no batched path): with synchronous=FULL every commit waits for an
  // fsync (~1,600/s on the development machine's disk), which would hide what the consumer's CPU work costs.
  const inboxDb = openDatabase(inboxPath, { synchronous: 'NORMAL' });
  try {
    // Untimed: the outbox filled, in application transactions (inside an application span when tracing).
    const outbox = createSqliteOutbox(app, { source: 'urn:service:bench', migrate: true });
    const fill = app.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        outbox.append(app, EnrollmentProgressed, { enrollmentId: ids[i % ids.length]!, progress: i % 101 });
      }
    });
    for (let i = 0; i < events; i += PER_TRANSACTION) {
      const to = Math.min(events, i + PER_TRANSACTION);
      if (setup.tracer === undefined) fill(i, to);
      else
        setup.tracer.startActiveSpan('app transaction', (span) => {
          fill(i, to);
          span.end();
        });
    }
    await bus.ensureTopic(enrollmentsTopic);
    // The append spans still queued in the batch processor are exported now, not during the timed relay drain.
    await setup.flush();
    setup.resetSpans();
    collectGarbage();

    // Timed: the relay drains the outbox. Counted by a wrapper around the transport (cheap, and the same in
    // every configuration: the metrics hook is what is measured, so it cannot be the counter).
    let published = 0;
    const counting: Transport = {
      name: bus.name,
      ensureTopic: (spec) => bus.ensureTopic(spec),
      publish: async (batch) => {
        const acks = await bus.publish(batch);
        published += acks.length;
        return acks;
      },
      subscribe: (options) => bus.subscribe(options),
      resetOffsets: (group, topic, target) => bus.resetOffsets(group, topic, target),
      lag: (group, topic) => bus.lag(group, topic),
      read: (topic, target, limit) => bus.read(topic, target, limit),
      close: () => bus.close(),
    };
    let cpu = process.cpuUsage();
    let t = performance.now();
    const relay = createRelay({
      outbox,
      transport: counting,
      topics: [enrollmentsTopic],
      batchSize: 1000,
      ...(setup.onPublished === undefined ? {} : { onPublished: setup.onPublished }),
    }).start();
    const relayDeadline = Date.now() + 300_000;
    while (published < events && Date.now() < relayDeadline) await sleep(2);
    const relayMs = performance.now() - t;
    const relayCpu = process.cpuUsage(cpu);
    await relay.stop();
    if (published < events) throw new Error(`the relay published ${published} of ${events} events in 300 s`);
    await setup.flush();
    const relaySpans = setup.spansHeld();
    setup.resetSpans();
    collectGarbage();

    // Timed: a consumer with the SQLite inbox reads what the relay published, one row written per event.
    inboxDb.exec(
      'CREATE TABLE bench_effect (event_id TEXT PRIMARY KEY, key TEXT NOT NULL, progress INTEGER)',
    );
    const insert = inboxDb.prepare('INSERT INTO bench_effect (event_id, key, progress) VALUES (?, ?, ?)');
    let handled = 0;
    let firstAt = 0;
    let lastAt = 0;
    cpu = process.cpuUsage();
    t = performance.now();
    const consumer = createConsumer({
      transport: bus,
      group: 'bench',
      inbox: createSqliteInbox(inboxDb, { migrate: true }),
      handlers: [
        // `insert` is prepared on the inbox's connection: it runs in the inbox transaction (`context.tx`).
        handle(EnrollmentProgressed, (e) => {
          insert.run(e.id, e.key, e.data.progress);
          if (handled === 0) firstAt = performance.now();
          if (++handled === events) lastAt = performance.now();
        }),
      ],
      ...(setup.onOutcome === undefined ? {} : { onOutcome: setup.onOutcome }),
    });
    const deadline = Date.now() + 300_000;
    while (handled < events && Date.now() < deadline) await sleep(2);
    const consumeCpu = process.cpuUsage(cpu);
    await consumer.stop();
    if (handled < events) throw new Error(`the consumer handled ${handled} of ${events} events in 300 s`);
    await setup.flush();
    const consumeSpans = setup.spansHeld();
    if (setup.name === 'metrics+memory-sdk' && consumeSpans !== events) {
      throw new Error(
        `the in-memory SDK holds ${consumeSpans} process spans for ${events} events: spans were dropped`,
      );
    }
    setup.resetSpans();
    return {
      relay: rate(events, relayMs),
      consume: rate(events - 1, lastAt - firstAt),
      relayCpuUs: (relayCpu.user + relayCpu.system) / events,
      consumeCpuUs: (consumeCpu.user + consumeCpu.system) / events,
      startupMs: Math.round(firstAt - t),
      relaySpans,
      consumeSpans,
    };
  } finally {
    await bus.close();
    app.close();
    inboxDb.close();
    for (const f of files) for (const s of ['', '-wal', '-shm']) rmSync(f + s, { force: true });
  }
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A full collection before each timed part, so none pays for the garbage of the untimed part before it. */
function collectGarbage(): void {
  gc();
}

function rate(events: number, ms: number): number {
  return Math.round((events / ms) * 1000);
}

function progress(line: string): void {
  process.stderr.write(`  ${new Date().toISOString().slice(11, 19)} ${line}\n`);
}
