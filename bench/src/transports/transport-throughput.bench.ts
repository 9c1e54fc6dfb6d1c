import { join } from 'node:path';
import { createConsumer, createRelay, createTransport, handle, type Transport } from '@sluice/core';
import { partitionFor, sleep } from '@sluice/core/adapter';
import { EnrollmentProgressed, enrollmentsTopic } from '@sluice/example-enrollments';
import { createSqliteOutbox, openDatabase, type SqliteDatabase, type SqliteOutbox } from '@sluice/sqlite';
import type { BenchResult } from '../report.js';
import type { BenchTarget } from './bench-target.js';
import type { RawRecord } from './raw-client.js';
import { setInbox } from './set-inbox.js';

/** Rates of one round, events/s, and the consumers' time to their first record, ms. */
interface Round {
  readonly publish: number;
  readonly consume: number;
  readonly startupMs: number;
}

/**
 * Publish and consume rates through Sluice on one broker, each as a ratio to the broker's raw client
 * (see {@link BenchTarget.openRaw}) moving the same records on the same server in the same run:
 * - publish: `events` committed SQLite outbox rows shipped by one relay (batches of 1000) vs the raw client
 *   publishing the same keys, partitions and bytes with every acknowledgement awaited;
 * - consume: Sluice's consumer runtime (`consume()`, order per key, an in-memory inbox) reading what the relay
 *   published vs the raw client's consumer group reading what it published, each timed from its first record
 *   to its last (the time to the first record, joining the group, is reported apart as startup).
 * The raw client and Sluice take turns for `rounds` rounds, each round in a namespace of its own, and the
 * ratios compare the best round of each: a shared machine's noise (another process, the broker's JIT warming
 * up) lowers single rounds of either side. The median rounds are reported too.
 */
export async function transportThroughputBench(
  target: BenchTarget,
  dir: string,
  events = 200_000,
  keys = 1_000,
  rounds = 3,
): Promise<BenchResult> {
  const namespace = `bench-${Date.now().toString(36)}`;
  const ids = Array.from({ length: keys }, () => crypto.randomUUID());
  const raw: Round[] = [];
  const sluice: Round[] = [];
  for (let round = 1; round <= rounds; round++) {
    const app = openDatabase(join(dir, `tp-app-${round}.db`));
    try {
      const outbox = createSqliteOutbox(app, { source: 'urn:service:bench', migrate: true });
      const records = await fill(app, outbox, ids, events);
      raw.push(await rawRound(target, `${namespace}-r${round}-raw`, records, events));
      progress(`round ${round}: raw client done`);
      sluice.push(await sluiceRound(target, `${namespace}-r${round}`, outbox, events));
      progress(`round ${round}: sluice done`);
    } finally {
      app.close();
    }
  }
  const best = (runs: readonly Round[], what: 'publish' | 'consume') => Math.max(...runs.map((r) => r[what]));
  const median = (runs: readonly Round[], what: keyof Round) => {
    const sorted = runs.map((r) => r[what]).sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)]!;
  };
  return {
    name: `${target.name}-throughput`,
    description: `${events.toLocaleString('en-US')} events over ${keys} keys, ${enrollmentsTopic.partitions} partitions, on ${target.url()} (namespace ${namespace}), best of ${rounds} rounds each`,
    figures: {
      'sluice relay publish, events/s': best(sluice, 'publish'),
      'raw client publish, events/s': best(raw, 'publish'),
      'publish ratio (sluice/raw)': best(sluice, 'publish') / best(raw, 'publish'),
      'publish ratio of the medians': median(sluice, 'publish') / median(raw, 'publish'),
      'sluice consume, events/s': best(sluice, 'consume'),
      'raw client consume, events/s': best(raw, 'consume'),
      'consume ratio (sluice/raw)': best(sluice, 'consume') / best(raw, 'consume'),
      'consume ratio of the medians': median(sluice, 'consume') / median(raw, 'consume'),
      'sluice consumer startup (to first event), median ms': median(sluice, 'startupMs'),
      'raw consumer startup (to first record), median ms': median(raw, 'startupMs'),
    },
    notes: [
      `rounds (publish/consume events/s): raw ${raw.map(show).join(', ')}; sluice ${sluice.map(show).join(', ')}`,
    ],
  };
}

/** Appends `events` outbox rows and returns them as the raw client sends them (same keys, partitions, bytes). */
async function fill(
  app: SqliteDatabase,
  outbox: SqliteOutbox,
  ids: readonly string[],
  events: number,
): Promise<RawRecord[]> {
  const fillRange = app.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      outbox.append(app, EnrollmentProgressed, { enrollmentId: ids[i % ids.length]!, progress: i % 101 });
    }
  });
  for (let i = 0; i < events; i += 10_000) fillRange(i, Math.min(events, i + 10_000));
  const { rows } = await outbox.readPending(undefined, events);
  return rows.map((r) => ({
    key: r.key,
    partition: partitionFor(r.key, enrollmentsTopic.partitions),
    value: r.value ?? '',
    id: r.id,
  }));
}

/** The raw client publishes, then consumes, on its own stream/topic. */
async function rawRound(
  target: BenchTarget,
  namespace: string,
  records: readonly RawRecord[],
  events: number,
): Promise<Round> {
  const raw = await target.openRaw(namespace, enrollmentsTopic.partitions);
  try {
    let t = performance.now();
    await raw.publish(records);
    const publishMs = performance.now() - t;
    t = performance.now();
    const firstAt = await raw.consume(events);
    const consumeMs = performance.now() - firstAt;
    return {
      publish: rate(events, publishMs),
      consume: rate(events, consumeMs),
      startupMs: Math.round(firstAt - t),
    };
  } finally {
    await raw.close();
  }
}

/** The relay drains the outbox to the broker, then a consumer reads it all. */
async function sluiceRound(
  target: BenchTarget,
  namespace: string,
  outbox: SqliteOutbox,
  events: number,
): Promise<Round> {
  const transport = await createTransport({ kind: target.kind, url: target.url(), namespace });
  try {
    await transport.ensureTopic(enrollmentsTopic);
    // The relay publishes through a wrapper that counts what the broker acknowledged: cheap to read while it
    // runs (a COUNT(*) over the outbox every few milliseconds would slow the relay it measures).
    let published = 0;
    const counting: Transport = {
      name: transport.name,
      ensureTopic: (spec) => transport.ensureTopic(spec),
      publish: async (batch) => {
        const acks = await transport.publish(batch);
        published += acks.length;
        return acks;
      },
      subscribe: (options) => transport.subscribe(options),
      resetOffsets: (group, topic, target) => transport.resetOffsets(group, topic, target),
      lag: (group, topic) => transport.lag(group, topic),
      read: (topic, target, limit) => transport.read(topic, target, limit),
      close: () => transport.close(),
    };
    const relay = createRelay({ outbox, transport: counting, topics: [enrollmentsTopic], batchSize: 1000 });
    let t = performance.now();
    relay.start();
    let shown = Date.now();
    while (published < events) {
      await sleep(2);
      if (Date.now() - shown > 5000) {
        shown = Date.now();
        progress(`relay: ${published} of ${events} published`);
      }
    }
    const relayMs = performance.now() - t;
    await relay.stop();

    // Timed from the first event handled to the last, as the raw client is from its first record to its last:
    // joining the group (and, in a fresh namespace, creating the group's and dead-letter streams or topics) is
    // startup, reported apart.
    const inbox = setInbox();
    let firstAt = 0;
    let lastAt = 0;
    let handled = 0;
    t = performance.now();
    const consumer = createConsumer({
      transport,
      group: `${namespace}-consumer`,
      inbox,
      handlers: [
        handle(EnrollmentProgressed, () => {
          if (handled === 0) firstAt = performance.now();
          if (++handled === events) lastAt = performance.now();
        }),
      ],
    });
    const deadline = Date.now() + 300_000;
    shown = Date.now();
    while (inbox.applied.size < events && Date.now() < deadline) {
      await sleep(2);
      if (Date.now() - shown > 5000) {
        shown = Date.now();
        progress(`consumer applied ${inbox.applied.size} of ${events}`);
      }
    }
    await consumer.stop();
    if (inbox.applied.size < events)
      throw new Error(`the consumer applied ${inbox.applied.size} of ${events} events in 300 s`);
    return {
      publish: rate(events, relayMs),
      consume: rate(events, lastAt - firstAt),
      startupMs: Math.round(firstAt - t),
    };
  } finally {
    await transport.close();
  }
}

function rate(events: number, ms: number): number {
  return Math.round((events / ms) * 1000);
}

function show(r: Round): string {
  return `${r.publish.toLocaleString('en-US')}/${r.consume.toLocaleString('en-US')}`;
}

function progress(line: string): void {
  process.stderr.write(`  ${new Date().toISOString().slice(11, 19)} ${line}\n`);
}
