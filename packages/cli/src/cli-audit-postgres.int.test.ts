import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type AuditReport, createRelay, decodeEnvelope, encodeEnvelope, uuidv7 } from '@sluice/core';
import { sleep } from '@sluice/core/adapter';
import { EnrollmentProgressed, enrollmentsTopic } from '@sluice/example-enrollments';
import { createPostgresOutbox, fromPg } from '@sluice/postgres';
import { createLogTransport, openDatabase } from '@sluice/sqlite';
import pg from 'pg';
import { assertExit, type Run, sluice as run } from './cli-runner.test-support.js';

// `sluice audit --db postgres://...` against a PostgreSQL outbox that archives delivered rows (`keepDeliveredMs`),
// with the real PostgreSQL of `eval "$(bash scripts/services postgres)"` (a schema of its own, dropped
// afterwards) and the embedded log, whose records are then removed and forged behind the relay's back.

const root = realpathSync(mkdtempSync(join(tmpdir(), 'sluice-cli-audit-pg-')));
const sluice = (args: readonly string[]): Promise<Run> => run(args, { cwd: root });

function pgUrl(): string {
  const url = process.env['SLUICE_TEST_PG_URL'];
  if (!url) {
    throw new Error(
      'SLUICE_TEST_PG_URL is not set: run `eval "$(bash scripts/services postgres)"` first (npm test does it)',
    );
  }
  return url;
}

describe('sluice audit with a PostgreSQL outbox (--db postgres://...)', () => {
  const schema = `cli_audit_${randomBytes(6).toString('hex')}`;
  const bus = join(root, 'bus.db');
  const keys = [randomUUID(), randomUUID(), randomUUID()];
  const appended = new Map<string, { id: string; sequence: number }[]>();
  let pool: pg.Pool;
  const audit = (...more: string[]) =>
    sluice([
      'audit',
      '--topic',
      'enrollments',
      '--log',
      bus,
      '--db',
      pgUrl(),
      '--schema',
      schema,
      '--idle-ms',
      '300',
      '--json',
      ...more,
    ]);
  const report = (r: Run) => JSON.parse(r.stdout) as AuditReport;
  const deleteFromLog = (id: string) => {
    const log = openDatabase(bus);
    try {
      const sql = `DELETE FROM sluice_log_records WHERE topic = 'enrollments' AND json_extract(value, '$.id') = ?`;
      assert.equal(log.prepare(sql).run(id).changes, 1);
    } finally {
      log.close();
    }
  };

  before(async () => {
    pool = new pg.Pool({ connectionString: pgUrl(), max: 4 });
    pool.on('error', () => undefined);
    const outbox = await createPostgresOutbox(pool, {
      source: 'urn:service:enrollments',
      schema,
      migrate: true,
      keepDeliveredMs: 3_600_000,
    });
    for (let progress = 1; progress <= 10; progress++) {
      for (const enrollmentId of keys) {
        const a = await outbox.append(fromPg(pool), EnrollmentProgressed, { enrollmentId, progress });
        appended.set(enrollmentId, [...(appended.get(enrollmentId) ?? []), a]);
      }
    }
    const transport = createLogTransport({ path: bus });
    const relay = createRelay({ outbox, transport, topics: [enrollmentsTopic] }).start();
    try {
      const deadline = Date.now() + 10_000;
      while ((await outbox.stats()).pending > 0) {
        assert.ok(Date.now() < deadline, 'the relay did not deliver every event within 10 s');
        await sleep(20);
      }
    } finally {
      await relay.stop();
      await transport.close();
      await outbox.close();
    }
  });
  after(async () => {
    await pool?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool?.end();
    rmSync(root, { recursive: true, force: true });
  });

  it('finds the relayed topic clean against the archived rows (exit 0)', async () => {
    const r = await audit();
    assertExit(r, 0, 'audit of a clean topic');
    const clean = report(r);
    assert.equal(clean.outboxRows, 30);
    assert.equal(clean.events, 30);
    assert.deepEqual(clean.problems, []);
    assert.deepEqual(
      clean.notes.filter((n) => /older than the outbox/.test(n)),
      [],
      'every event was checkable',
    );
  });

  it("reports delivered rows missing from the topic with their ids: in a key's middle and at its end (exit 1)", async () => {
    const middle = appended.get(keys[0]!)![3]!;
    const tail = appended.get(keys[1]!)![9]!;
    deleteFromLog(middle.id);
    deleteFromLog(tail.id);
    const r = await audit();
    assertExit(r, 1, 'audit after deleting two records');
    assert.deepEqual(
      report(r).problems.map((p) => [p.kind, p.key, p.expected, p.ids]),
      [
        ['missing', keys[0], '4', [middle.id]],
        ['missing', keys[1], '10', [tail.id]],
      ].sort((a, b) => (String(a[1]) < String(b[1]) ? -1 : 1)), // missing ones come by key
    );
  });

  it('reports an event the outbox never had as invented, and its reused sequence (exit 1)', async () => {
    const log = openDatabase(bus);
    const forged = uuidv7();
    try {
      const original = log
        .prepare(
          `SELECT partition, value FROM sluice_log_records WHERE topic = 'enrollments' AND json_extract(value, '$.id') = ?`,
        )
        .get(appended.get(keys[2]!)![1]!.id) as { partition: number; value: string };
      const value = encodeEnvelope({ ...decodeEnvelope(original.value), id: forged });
      log
        .prepare(
          `INSERT INTO sluice_log_records (topic, partition, offset, key, value, headers, timestamp)
           VALUES ('enrollments', ?, (SELECT max(offset) + 1 FROM sluice_log_records WHERE topic = 'enrollments' AND partition = ?), ?, ?, NULL, ?)`,
        )
        .run(original.partition, original.partition, keys[2]!, value, Date.now());
    } finally {
      log.close();
    }
    const found = report(await audit()).problems.filter((p) => p.key === keys[2]);
    assert.deepEqual(
      found.map((p) => [p.kind, p.received, p.ids]),
      [
        ['invented', 2, [forged]],
        ['sequence-reused', 2, [appended.get(keys[2]!)![1]!.id, forged]],
      ],
    );
  });
});
