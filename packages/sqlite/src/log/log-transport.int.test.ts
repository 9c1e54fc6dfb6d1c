import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type RawRecord, runTransportConformance } from '@sluice/testing';
import Database from 'better-sqlite3';
import type { LogTransportOptions } from './log-options.js';
import { createLogTransport, type LogTransport } from './log-transport.js';

const sessionTimeoutMs = 300;
const tombstoneRetentionMs = 1000;
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const transportModule = fileURLToPath(new URL('./log-transport.ts', import.meta.url));

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Options for a log in a new temporary directory. */
function tempLog(extra: Partial<LogTransportOptions> = {}): LogTransportOptions {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-log-'));
  dirs.push(dir);
  return { path: join(dir, 'log.db'), sessionTimeoutMs, tombstoneRetentionMs, sweepIntervalMs: 50, ...extra };
}

runTransportConformance(
  'embedded log',
  async () => {
    const options = tempLog();
    return {
      transport: createLogTransport(options),
      reopen: async () => createLogTransport(options),
      connect: async () => createLogTransport(options),
      crash: async (t) => (t as LogTransport).abandon(),
      readRaw: { binding: 'layout', read: async (topic) => readLogRecords(options.path, topic) },
      cleanup: async () => {},
    };
  },
  { sessionTimeoutMs, tombstoneRetentionMs },
);

/** The records of `topic` as the file holds them (docs/cloudevents.md: the embedded log's layout). */
function readLogRecords(path: string, topic: string): RawRecord[] {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db
      .prepare('SELECT key, value, headers FROM sluice_log_records WHERE topic = ? AND value IS NOT NULL')
      .all(topic) as { key: string; value: string; headers: string | null }[];
    return rows.map((r) => ({
      key: r.key,
      value: r.value,
      headers: r.headers === null ? {} : (JSON.parse(r.headers) as Record<string, string>),
    }));
  } finally {
    db.close();
  }
}

const value = JSON.stringify({
  specversion: '1.0',
  id: '01937c1e-4a7b-7cc2-9d4e-5f6a7b8c9d0e',
  type: 'enrollment.created',
  source: '/enrollments',
  time: '2025-01-01T00:00:00.000Z',
  data: { enrollmentId: 'e-1', courseId: 'c-1', studentId: 's-1' },
});

describe('embedded log specifics', () => {
  it('uses WAL and durable commits; validates options naming the field', async () => {
    const options = tempLog();
    const t = createLogTransport(options);
    try {
      assert.ok(Object.isFrozen(t.options));
      assert.equal(t.options.maxPayloadBytes, 1024 * 1024);
      const db = new Database(options.path, { readonly: true });
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      db.close();
    } finally {
      await t.close();
    }
    for (const [field, bad] of [
      ['path', ''],
      ['sessionTimeoutMs', -1],
      ['pollIntervalMs', 1.5],
      ['heartbeatIntervalMs', 10_000],
    ] as const) {
      assert.throws(
        () => createLogTransport({ path: 'x.db', [field]: bad }),
        (error: Error & { code?: string }) =>
          error.code === 'SLUICE_INVALID_OPTION' && error.message.includes(field),
      );
    }
  });

  it('the periodic sweep deletes expired message records; offsets are never reused', async () => {
    const options = tempLog();
    const t = createLogTransport(options);
    try {
      await t.ensureTopic({ name: 'pings', kind: 'message', partitions: 1, retentionMs: 100 });
      const first = await t.publish(
        [1, 2, 3].map((i) => ({ topic: 'pings', key: 'k', value: `v${i}`, id: `${i}` })),
      );
      const db = new Database(options.path, { readonly: true });
      const count = () =>
        (db.prepare('SELECT count(*) AS n FROM sluice_log_records').get() as { n: number }).n;
      assert.equal(count(), 3);
      const deadline = Date.now() + 3000;
      while (count() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(count(), 0, 'the sweep deleted the expired rows');
      db.close();
      const [next] = await t.publish([{ topic: 'pings', key: 'k', value: 'v4', id: '4' }]);
      assert.equal(next!.offset, String(Number(first[2]!.offset) + 1));
    } finally {
      await t.close();
    }
  });

  it('publishes 100k small records in batches of 1000 fast', async (context) => {
    const t = createLogTransport(tempLog());
    try {
      await t.ensureTopic({ name: 'bench', kind: 'event', partitions: 8 });
      const batches = Array.from({ length: 100 }, (_, b) =>
        Array.from({ length: 1000 }, (_, i) => ({
          topic: 'bench',
          key: `key-${(b * 1000 + i) % 5000}`,
          value,
          id: `${b}.${i}`,
        })),
      );
      const start = performance.now();
      for (const batch of batches) await t.publish(batch);
      const rate = Math.round(100_000 / ((performance.now() - start) / 1000));
      context.diagnostic(`publish: ${rate} records/s (${value.length}-byte values, batches of 1000)`);
      assert.ok(rate > 25_000, `publish rate ${rate} records/s`);
    } finally {
      await t.close();
    }
  });

  it('wakes a waiting poll when another process publishes (PRAGMA data_version)', async (context) => {
    const options = tempLog({ pollIntervalMs: 2 });
    const t = createLogTransport(options);
    try {
      await t.ensureTopic({ name: 'cross', kind: 'event', partitions: 4 });
      const sub = await t.subscribe({ group: 'g', topics: ['cross'] });
      const child = join(options.path, '..', 'publisher.mts');
      writeFileSync(
        child,
        `import { createLogTransport } from ${JSON.stringify(transportModule)};
const t = createLogTransport({ path: process.argv[2] });
for (let round = 0; round < 3; round++) {
  await new Promise((resolve) => setTimeout(resolve, 300));
  const acks = await t.publish([{ topic: 'cross', key: 'k' + round, value: 'from-child-' + round, id: String(round) }]);
  process.stdout.write(JSON.stringify({ committedAt: Date.now(), acks }) + '\\n');
}
await t.close();
`,
      );
      const proc = spawn(
        process.execPath,
        ['--conditions=sluice-source', '--import', 'tsx', child, options.path],
        {
          cwd: repoRoot,
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      const lines: { committedAt: number }[] = [];
      let buffer = '';
      proc.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
          lines.push(JSON.parse(buffer.slice(0, i)) as { committedAt: number });
          buffer = buffer.slice(i + 1);
        }
      });
      const exited = new Promise<number | null>((resolve) => proc.on('exit', resolve));
      const latencies: number[] = [];
      for (let round = 0; round < 3; round++) {
        const got = await sub.poll({ maxRecords: 10, maxWaitMs: 20_000 });
        const receivedAt = Date.now();
        assert.deepEqual(
          got.map((r) => r.value),
          [`from-child-${round}`],
        );
        // The child writes its line right after the commit; wait for it to learn when that was.
        while (lines.length <= round) await new Promise((r) => setTimeout(r, 1));
        latencies.push(receivedAt - lines[round]!.committedAt);
      }
      assert.equal(await exited, 0);
      context.diagnostic(`cross-process wake-up latency: ${latencies.join(', ')} ms`);
      assert.ok(Math.max(...latencies) < 100, `woke ${latencies} ms after the other process committed`);
    } finally {
      await t.close();
    }
  });
});
