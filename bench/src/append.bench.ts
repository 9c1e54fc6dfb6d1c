import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { EnrollmentCreated, serviceStatements } from '@sluice/example-enrollments';
import { createSqliteOutbox, openDatabase, type SqliteDatabase } from '@sluice/sqlite';
import { type BenchResult, percentile } from './report.js';

type Variant = 'enroll' | 'insert-only';

/**
 * Outbox append cost: the same business transaction with and without `outbox.append`, in rotating rounds
 * in one process, on files with the same settings, beside the floor of any outbox with per-key sequences. `enroll` is the example service's transaction (take a
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
  // The floor of any outbox with per-key sequences: the same transaction plus one appended row and one
  // row at a random key, in hand-written SQL (what the two B-tree writes cost on this disk, without Sluice).
  const floor = setup(join(dir, `floor-${variant}-${synchronous}.db`), synchronous);
  floor.exec('CREATE TABLE events (id INTEGER PRIMARY KEY, value TEXT NOT NULL)');
  floor.exec('CREATE TABLE counters (key TEXT PRIMARY KEY, last INTEGER NOT NULL) WITHOUT ROWID');
  const floorEvent = floor.prepare('INSERT INTO events (value) VALUES (?)');
  const floorCounter = floor.prepare(
    'INSERT INTO counters (key, last) VALUES (?, 1) ON CONFLICT (key) DO UPDATE SET last = last + 1 RETURNING last',
  );
  const envelopeSized = 'x'.repeat(420);
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
  const floorWork = business(floor);
  const txFloor = floor.transaction((id: string, courseId: string, studentId: string, now: string) => {
    floorWork(id, courseId, studentId, now);
    floorCounter.get(id);
    floorEvent.run(envelopeSized);
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
  run(txFloor);
  // Rounds of the three variants in rotating order, so drift and noise on this shared machine hit all alike;
  // the headline is the median of the per-round ratios.
  const variants = [txPlain, txOutbox, txFloor] as const;
  const totals = [0, 0, 0];
  const outboxRatios: number[] = [];
  const floorRatios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t = [0, 0, 0];
    for (let k = 0; k < 3; k++) {
      const v = (r + k) % 3;
      t[v] = run(variants[v]!);
      totals[v]! += t[v]!;
    }
    outboxRatios.push(t[0]! / t[1]!);
    floorRatios.push(t[0]! / t[2]!);
  }
  plain.close();
  withOutbox.close();
  floor.close();
  const total = rounds * perRound;
  const [plainTps, outboxTps, floorTps] = totals.map((ms) => (total / ms) * 1000) as [number, number, number];
  return {
    name: `append-${variant}-${synchronous.toLowerCase()}`,
    description: `${variant === 'enroll' ? "the example service's enroll transaction" : 'a one-row insert transaction'} with vs without outbox.append (SQLite WAL, synchronous=${synchronous})`,
    figures: {
      'without outbox, tx/s': Math.round(plainTps),
      'with outbox append, tx/s': Math.round(outboxTps),
      'with/without ratio (all rounds)': outboxTps / plainTps,
      'with/without ratio (median of rounds)': percentile(outboxRatios, 50),
      'append cost, % of throughput (median)': (1 - percentile(outboxRatios, 50)) * 100,
      'floor: + one appended and one random-key row, tx/s': Math.round(floorTps),
      'floor/without ratio (median of rounds)': percentile(floorRatios, 50),
      'sluice/floor ratio': outboxTps / floorTps,
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
