import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { EnrollmentCreated, serviceStatements } from '@sluice/example-enrollments';
import { createSqliteOutbox, openDatabase, type SqliteDatabase } from '@sluice/sqlite';
import { type BenchResult, percentile } from './report.js';

type Variant = 'enroll' | 'insert-only';

/**
 * Outbox append cost: the same business transaction with and without `outbox.append`, in alternating rounds
 * in one process, on two files with the same settings. `enroll` is the example service's transaction (take a
 * seat in the course, insert the enrollment with its indexes); `insert-only` is the smallest possible
 * transaction (one row), where the append's relative cost is largest.
 */
export async function appendBench(
  dir: string,
  variant: Variant,
  synchronous: 'FULL' | 'NORMAL',
  rounds = 40,
  perRound = 500,
): Promise<BenchResult> {
  const plain = setup(join(dir, `plain-${variant}-${synchronous}.db`), synchronous);
  const withOutbox = setup(join(dir, `outbox-${variant}-${synchronous}.db`), synchronous);
  const outbox = createSqliteOutbox(withOutbox, { source: 'urn:service:bench', migrate: true });
  const business = (db: SqliteDatabase) => {
    const sql = serviceStatements(db);
    for (let i = 0; i < 50; i++) sql.openCourse.run(`C-${i}`, 1_000_000_000);
    const insertOnly = db.prepare(
      'INSERT INTO plain_rows (id, course_id, student_id, at) VALUES (?, ?, ?, ?)',
    );
    return (id: string, courseId: string, studentId: string, now: string) => {
      if (variant === 'insert-only') {
        insertOnly.run(id, courseId, studentId, now);
        return;
      }
      if (sql.takeSeat.run(courseId).changes === 0) throw new Error('full');
      sql.insertEnrollment.run(id, courseId, studentId, now);
    };
  };
  const plainWork = business(plain);
  const outboxWork = business(withOutbox);
  const txPlain = plain.transaction((id: string, courseId: string, studentId: string, now: string) =>
    plainWork(id, courseId, studentId, now),
  );
  const txOutbox = withOutbox.transaction((id: string, courseId: string, studentId: string, now: string) => {
    outboxWork(id, courseId, studentId, now);
    outbox.append(withOutbox, EnrollmentCreated, { enrollmentId: id, courseId, studentId, enrolledAt: now });
  });
  let n = 0;
  const run = (tx: (id: string, courseId: string, studentId: string, now: string) => unknown) => {
    const start = performance.now();
    for (let i = 0; i < perRound; i++, n++)
      tx(crypto.randomUUID(), `C-${n % 50}`, `S-${n}`, new Date().toISOString());
    return performance.now() - start;
  };
  run(txPlain); // warm-up
  run(txOutbox);
  // Paired rounds, alternating which goes first, so drift and noise on this shared machine hit both alike;
  // the headline is the median of the per-pair ratios.
  let tPlain = 0;
  let tOutbox = 0;
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let p: number;
    let o: number;
    if (r % 2 === 0) {
      p = run(txPlain);
      o = run(txOutbox);
    } else {
      o = run(txOutbox);
      p = run(txPlain);
    }
    tPlain += p;
    tOutbox += o;
    ratios.push(p / o);
  }
  plain.close();
  withOutbox.close();
  const total = rounds * perRound;
  const plainTps = (total / tPlain) * 1000;
  const outboxTps = (total / tOutbox) * 1000;
  return {
    name: `append-${variant}-${synchronous.toLowerCase()}`,
    description: `${variant === 'enroll' ? "the example service's enroll transaction" : 'a one-row insert transaction'} with vs without outbox.append (SQLite WAL, synchronous=${synchronous})`,
    figures: {
      'without outbox, tx/s': Math.round(plainTps),
      'with outbox append, tx/s': Math.round(outboxTps),
      'with/without ratio (all rounds)': outboxTps / plainTps,
      'with/without ratio (median of pairs)': percentile(ratios, 50),
      'append cost, % of throughput (median)': (1 - percentile(ratios, 50)) * 100,
      'transactions per variant': total,
    },
  };
}

function setup(path: string, synchronous: 'FULL' | 'NORMAL'): SqliteDatabase {
  for (const s of ['', '-wal', '-shm']) rmSync(path + s, { force: true });
  const db = openDatabase(path, { synchronous });
  db.exec(
    'CREATE TABLE plain_rows (id TEXT PRIMARY KEY, course_id TEXT NOT NULL, student_id TEXT NOT NULL, at TEXT NOT NULL)',
  );
  return db;
}
