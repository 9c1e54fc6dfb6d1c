import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type AuditReport, createRelay } from '@sluice/core';
import { sleep } from '@sluice/core/adapter';
import { EnrollmentCreated, EnrollmentProgressed, enrollmentsTopic } from '@sluice/example-enrollments';
import { createLogTransport, createSqliteOutbox, openDatabase } from '@sluice/sqlite';
import { assertExit, type Run, sluice as run } from './cli-runner.test-support.js';

// `sluice audit` on the embedded log against the SQLite outbox, run as a child process: a relay publishes
// events of several keys, then records are removed from (and added to) the log's table behind its back.

const root = realpathSync(mkdtempSync(join(tmpdir(), 'sluice-cli-audit-')));
const sluice = (args: readonly string[]): Promise<Run> => run(args, { cwd: root });

type Report = AuditReport & { problemsShown: number };

describe('sluice audit on the embedded log with the SQLite outbox', () => {
  const app = join(root, 'app.db');
  const bus = join(root, 'bus.db');
  const keys = Array.from({ length: 8 }, () => randomUUID());
  /** Per key, the appended events in order: id and sequence. */
  const appended = new Map<string, { id: string; sequence: number }[]>();
  let last: { key: string; id: string; sequence: number };
  const audit = (...more: string[]) =>
    sluice(['audit', '--topic', 'enrollments', '--log', bus, '--db', app, '--idle-ms', '300', ...more]);

  before(async () => {
    const db = openDatabase(app);
    const outbox = createSqliteOutbox(db, { source: 'urn:service:enrollments', migrate: true });
    for (let round = 0; round < 40; round++) {
      db.transaction(() => {
        for (const enrollmentId of keys) {
          const a =
            round === 0
              ? outbox.append(db, EnrollmentCreated, {
                  enrollmentId,
                  courseId: 'C-1',
                  studentId: 'S-1',
                  enrolledAt: new Date().toISOString(),
                })
              : outbox.append(db, EnrollmentProgressed, { enrollmentId, progress: round });
          appended.set(enrollmentId, [...(appended.get(enrollmentId) ?? []), a]);
          last = a;
        }
      })();
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
      db.close();
    }
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('finds a relayed topic clean, and says so in its summary (exit 0)', async () => {
    const text = await audit();
    assertExit(text, 0, 'audit of a clean topic');
    assert.match(text.stdout, /^audit of topic enrollments on embedded-log, against outbox /m);
    assert.match(text.stdout, /^ {2}records read +320$/m);
    assert.match(text.stdout, /^ {2}keys +8$/m);
    assert.match(text.stdout, /^ {2}events +320$/m);
    assert.match(text.stdout, /^ {2}missing +0$/m);
    assert.match(text.stdout, /^result: ok$/m);
    const json = await audit('--json');
    assertExit(json, 0, 'audit --json of a clean topic');
    const report = JSON.parse(json.stdout) as Report;
    assert.equal(report.failed, false);
    assert.deepEqual(report.problems, []);
    // The SQLite outbox keeps only its newest row once delivered.
    assert.equal(report.outboxRows, 1);
  });

  it('reports an event stored twice as a duplicate, which is not a failure (exit 0)', async () => {
    const key = keys[2]!;
    const again = appended.get(key)![4]!;
    const log = openDatabase(bus);
    try {
      log
        .prepare(
          `INSERT INTO sluice_log_records (topic, partition, offset, key, value, headers, timestamp)
           SELECT topic, partition, (SELECT max(offset) + 1 FROM sluice_log_records WHERE topic = r.topic AND partition = r.partition), key, value, headers, timestamp
           FROM sluice_log_records r WHERE topic = 'enrollments' AND json_extract(value, '$.id') = ?`,
        )
        .run(again.id);
    } finally {
      log.close();
    }
    const json = await audit('--json');
    assertExit(json, 0, 'audit with a re-sent event');
    const report = JSON.parse(json.stdout) as Report;
    assert.equal(report.records, 321);
    assert.deepEqual(
      report.problems.map((p) => [p.kind, p.key, p.received, p.ids]),
      [['duplicate', key, again.sequence, [again.id]]],
    );
    const text = await audit();
    assertExit(text, 0, 'audit with a re-sent event (text)');
    assert.match(text.stdout, /^ {2}duplicate +1 \(re-sends/m);
    assert.match(
      text.stdout,
      new RegExp(`^ {2}duplicate +topic=enrollments key=${key} received=5 ids=${again.id} at=`, 'm'),
    );
    assert.match(text.stdout, /^result: ok \(re-sent events only\)$/m);
  });

  it('reports exactly the events deleted from the log: the key, sequence and the id the outbox still has (exit 1)', async () => {
    const key = keys[5]!;
    const middle = appended.get(key)![16]!;
    const end = appended.get(keys[6]!)![39]!;
    const log = openDatabase(bus);
    try {
      const remove = log.prepare(
        `DELETE FROM sluice_log_records WHERE topic = 'enrollments' AND json_extract(value, '$.id') = ?`,
      );
      assert.equal(remove.run(middle.id).changes, 1);
      assert.equal(remove.run(end.id).changes, 1);
      assert.equal(remove.run(last.id).changes, 1);
    } finally {
      log.close();
    }
    const json = await audit('--json');
    assertExit(json, 1, 'audit after deleting three records');
    const report = JSON.parse(json.stdout) as Report;
    assert.equal(report.failed, true);
    const byKey = (a: unknown[], b: unknown[]) => String(a[1]).localeCompare(String(b[1]));
    assert.deepEqual(
      report.problems
        .filter((p) => p.kind !== 'duplicate')
        .map((p) => [p.kind, p.key, p.expected, p.ids])
        .sort(byKey),
      [
        // A gap: the SQLite outbox deleted the delivered row, so only the key and sequence are known.
        ['missing', key, '17', []],
        // The end of a key: the outbox counted 40 for it and holds no pending row, so 40 was delivered.
        ['missing', keys[6], '40', []],
        // The newest row is kept by the outbox: the event is named.
        ['missing', last.key, String(last.sequence), [last.id]],
      ].sort(byKey),
    );
    assert.equal(report.counts.missing, 3);
    const text = await audit('--max-lines', '0');
    assertExit(text, 1, 'audit after deleting three records (text)');
    assert.match(
      text.stdout,
      new RegExp(
        `^ {2}missing +topic=enrollments key=${key} expected=17 : counter sequence 17 never stored: the key has 16, then 18$`,
        'm',
      ),
    );
    assert.match(
      text.stdout,
      new RegExp(
        `^ {2}missing +topic=enrollments key=${keys[6]} expected=40 : counter sequence 40 delivered \\(the outbox counted 40\\) but not on the topic: the key's last event there is 39$`,
        'm',
      ),
    );
    assert.match(text.stdout, /^problems:$/m);
    assert.match(text.stdout, /^result: FAILED/m);
    const few = await audit('--max-lines', '1');
    assertExit(few, 1, 'audit --max-lines 1');
    assert.match(few.stdout, /^problems \(first 1 of 4; --max-lines 0 shows all\):$/m);
  });

  it('refuses to run without a topic (exit 2)', async () => {
    const r = await sluice(['audit', '--log', bus]);
    assertExit(r, 2, 'audit without --topic');
    assert.match(r.stderr, /name the topic to audit: sluice audit --topic NAME/);
  });
});
