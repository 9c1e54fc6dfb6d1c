import { join } from 'node:path';
import { createTransport } from '@sluice/cli';
import { consume, createRelay, handle, partitionFor, sleep, type Transport } from '@sluice/core';
import { EnrollmentProgressed, enrollmentsTopic } from '@sluice/example-enrollments';
import { createSqliteOutbox, openDatabase } from '@sluice/sqlite';
import type { BenchResult } from '../report.js';
import type { BenchTarget } from './bench-target.js';
import type { RawRecord } from './raw-client.js';
import { setInbox } from './set-inbox.js';

/**
 * Publish and consume rates through Sluice on one broker, each as a ratio to the broker's raw client
 * (see {@link BenchTarget.openRaw}) moving the same records on the same server in the same run:
 * - publish: `events` committed SQLite outbox rows shipped by one relay (batches of 1000) vs the raw client
 *   publishing the same keys, partitions and bytes with every acknowledgement awaited;
 * - consume: Sluice's consumer runtime (`consume()`, order per key, an in-memory inbox) reading what the relay
 *   published vs the raw client's consumer group reading what it published.
 * Every run uses a namespace of its own on the broker.
 */
export async function transportThroughputBench(
  target: BenchTarget,
  dir: string,
  events = 50_000,
  keys = 1_000,
): Promise<BenchResult> {
  const namespace = `bench-${Date.now().toString(36)}`;
  const app = openDatabase(join(dir, 'tp-app.db'));
  const outbox = createSqliteOutbox(app, { source: 'urn:service:bench', migrate: true });
  const ids = Array.from({ length: keys }, () => crypto.randomUUID());
  const fill = app.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      outbox.append(app, EnrollmentProgressed, { enrollmentId: ids[i % keys]!, progress: i % 101 });
    }
  });
  for (let i = 0; i < events; i += 10_000) fill(i, Math.min(events, i + 10_000));
  const { rows } = await outbox.readPending(undefined, events);
  const partitions = enrollmentsTopic.partitions;
  const records: RawRecord[] = rows.map((r) => ({
    key: r.key,
    partition: partitionFor(r.key, partitions),
    value: r.value ?? '',
    id: r.id,
  }));

  // Raw client: publish, then consume, on its own stream/topic.
  const raw = await target.openRaw(namespace, partitions);
  let rawPublishMs: number;
  let rawConsumeMs: number;
  try {
    let t = performance.now();
    await raw.publish(records);
    progress('raw publish done');
    rawPublishMs = performance.now() - t;
    t = performance.now();
    await raw.consume(events);
    progress('raw consume done');
    rawConsumeMs = performance.now() - t;
  } finally {
    await raw.close();
  }

  // Sluice: the relay drains the outbox to the broker, then a consumer reads it all.
  const transport = await createTransport({ kind: target.kind, url: target.url(), namespace });
  let relayMs: number;
  let consumeMs: number;
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
    relayMs = performance.now() - t;
    progress('relay drained');
    await relay.stop();

    const inbox = setInbox();
    t = performance.now();
    const consumer = consume({
      transport,
      group: `${namespace}-consumer`,
      inbox,
      handlers: [handle(EnrollmentProgressed, () => undefined)],
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
    consumeMs = performance.now() - t;
    await consumer.stop();
    if (inbox.applied.size < events)
      throw new Error(`the consumer applied ${inbox.applied.size} of ${events} events in 300 s`);
  } finally {
    await transport.close();
    app.close();
  }
  const rate = (ms: number) => Math.round((events / ms) * 1000);
  return {
    name: `${target.kind}-throughput`,
    description: `${events.toLocaleString('en-US')} events over ${keys} keys, ${partitions} partitions, on ${target.url()} (namespace ${namespace})`,
    figures: {
      'sluice relay publish, events/s': rate(relayMs),
      'raw client publish, events/s': rate(rawPublishMs),
      'publish ratio (sluice/raw)': rawPublishMs / relayMs,
      'sluice consume, events/s': rate(consumeMs),
      'raw client consume, events/s': rate(rawConsumeMs),
      'consume ratio (sluice/raw)': rawConsumeMs / consumeMs,
    },
  };
}

function progress(line: string): void {
  process.stderr.write(`  ${new Date().toISOString().slice(11, 19)} ${line}\n`);
}
