import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { EnrollmentCreated } from '@sluice/example-enrollments';
import { createSqliteOutbox, openDatabase, type SqliteDatabase } from '@sluice/sqlite';
import type { BenchResult } from './report.js';

const BUSINESS = `CREATE TABLE enrollments (id TEXT PRIMARY KEY, course_id TEXT NOT NULL, student_id TEXT NOT NULL,
  progress INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL, updated_at TEXT NOT NULL)`;

/**
 * Outbox append cost: the same business transaction (insert an enrollment row, commit) with and without the
 * outbox append, in alternating rounds in one process, on two files with the same settings.
 */
export async function appendBench(
  dir: string,
  synchronous: 'FULL' | 'NORMAL',
  rounds = 6,
  perRound = 3000,
): Promise<BenchResult> {
  const plain = setup(join(dir, `plain-${synchronous}.db`), synchronous);
  const withOutbox = setup(join(dir, `outbox-${synchronous}.db`), synchronous);
  const outbox = createSqliteOutbox(withOutbox, { source: 'urn:service:bench', migrate: true });
  const insPlain = plain.prepare(
    "INSERT INTO enrollments (id, course_id, student_id, status, updated_at) VALUES (?, ?, ?, 'active', ?)",
  );
  const insOutbox = withOutbox.prepare(
    "INSERT INTO enrollments (id, course_id, student_id, status, updated_at) VALUES (?, ?, ?, 'active', ?)",
  );
  const txPlain = plain.transaction((id: string, now: string) => insPlain.run(id, 'C-101', 'S-1', now));
  const txOutbox = withOutbox.transaction((id: string, now: string) => {
    insOutbox.run(id, 'C-101', 'S-1', now);
    outbox.append(withOutbox, EnrollmentCreated, {
      enrollmentId: id,
      courseId: 'C-101',
      studentId: 'S-1',
      enrolledAt: now,
    });
  });
  let tPlain = 0;
  let tOutbox = 0;
  const run = (tx: (id: string, now: string) => unknown) => {
    const start = performance.now();
    for (let i = 0; i < perRound; i++) tx(crypto.randomUUID(), new Date().toISOString());
    return performance.now() - start;
  };
  run(txPlain); // warm-up
  run(txOutbox);
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      tPlain += run(txPlain);
      tOutbox += run(txOutbox);
    } else {
      tOutbox += run(txOutbox);
      tPlain += run(txPlain);
    }
  }
  plain.close();
  withOutbox.close();
  const n = rounds * perRound;
  const plainTps = (n / tPlain) * 1000;
  const outboxTps = (n / tOutbox) * 1000;
  return {
    name: `append-${synchronous.toLowerCase()}`,
    description: `business transaction with vs without outbox.append (SQLite WAL, synchronous=${synchronous})`,
    figures: {
      'without outbox, tx/s': Math.round(plainTps),
      'with outbox append, tx/s': Math.round(outboxTps),
      'with/without ratio': outboxTps / plainTps,
      'append cost, % of throughput': (1 - outboxTps / plainTps) * 100,
      'transactions per variant': n,
    },
  };
}

function setup(path: string, synchronous: 'FULL' | 'NORMAL'): SqliteDatabase {
  for (const s of ['', '-wal', '-shm']) rmSync(path + s, { force: true });
  const db = openDatabase(path, { synchronous });
  db.exec(BUSINESS);
  return db;
}
