import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createRelay, type OutgoingRecord } from '@sluice/core';
import { EnrollmentProgressed, enrollmentsTopic } from '@sluice/example-enrollments';
import { createLogTransport, createSqliteOutbox, openDatabase } from '@sluice/sqlite';
import type { BenchResult } from './report.js';

/**
 * Relay drain rate: 100k committed outbox events shipped to the embedded log by one relay, against the
 * baseline of publishing the same records straight to the log (no outbox read, no acknowledge) in the same run.
 */
export async function drainBench(dir: string, events = 100_000, keys = 5_000): Promise<BenchResult> {
  const appPath = join(dir, 'drain-app.db');
  for (const f of [appPath, join(dir, 'drain-bus.db'), join(dir, 'raw-bus.db')]) {
    for (const s of ['', '-wal', '-shm']) rmSync(f + s, { force: true });
  }
  const app = openDatabase(appPath);
  const outbox = createSqliteOutbox(app, { source: 'urn:service:bench', migrate: true });
  const ids = Array.from({ length: keys }, () => crypto.randomUUID());
  const fill = app.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      outbox.append(app, EnrollmentProgressed, { enrollmentId: ids[i % keys]!, progress: i % 101 });
    }
  });
  for (let i = 0; i < events; i += 10_000) fill(i, Math.min(events, i + 10_000));
  const { rows } = await outbox.readPending(undefined, events);

  // Baseline: the same records published directly, in batches of 1000.
  const raw = createLogTransport({ path: join(dir, 'raw-bus.db') });
  await raw.ensureTopic(enrollmentsTopic);
  const records: OutgoingRecord[] = rows.map((r) => ({
    topic: r.topic,
    key: r.key,
    value: r.value,
    id: r.id,
  }));
  let t = performance.now();
  for (let i = 0; i < records.length; i += 1000) await raw.publish(records.slice(i, i + 1000));
  const rawMs = performance.now() - t;
  await raw.close();

  const bus = createLogTransport({ path: join(dir, 'drain-bus.db') });
  const relay = createRelay({ outbox, transport: bus, topics: [enrollmentsTopic], batchSize: 1000 });
  t = performance.now();
  relay.start();
  const count = app.prepare('SELECT count(*) FROM sluice_outbox WHERE delivered_at IS NULL').pluck();
  while ((count.get() as number) > 0) await new Promise((r) => setTimeout(r, 5));
  const relayMs = performance.now() - t;
  const stats = await relay.stats();
  await relay.stop();
  await bus.close();
  app.close();
  const relayRate = (events / relayMs) * 1000;
  const rawRate = (events / rawMs) * 1000;
  return {
    name: 'relay-drain',
    description: `${events.toLocaleString('en-US')} queued outbox events over ${keys} keys -> embedded log, one relay, batches of 1000`,
    figures: {
      'relay drain, events/s': Math.round(relayRate),
      'baseline: direct log publish, events/s': Math.round(rawRate),
      'relay/baseline ratio': relayRate / rawRate,
      'relay published': stats.published,
      'relay drain seconds': relayMs / 1000,
    },
  };
}
