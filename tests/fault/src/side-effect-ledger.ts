/**
 * The side-effect ledger of the fault tests' consumers: one row per applied event (how often it was applied and
 * by which process), each key's last applied sequence, and a row per order problem. Handlers write it through
 * the inbox transaction, so "applied exactly once, in order per key, nothing skipped" can be read back from
 * the consumer's own tables. PostgreSQL and SQLite flavours; the test process creates the tables, consumers
 * only write rows.
 */
import type { ConsumedEvent } from '@sluice/core';
import type { SqlExecutor } from '@sluice/postgres';
import type { SqliteDatabase } from '@sluice/sqlite';

/** One row of `side_effects`. */
export interface LedgerRow {
  readonly event_id: string;
  readonly key: string;
  readonly sequence: number;
  /** How many times the handler's write committed: 1, or more if the inbox let a duplicate through. */
  readonly applied: number;
  /** The consumer process that committed the first application. */
  readonly pid: number;
}

/** One row of `order_violations`: the handler saw `got` where `expected` (the key's last + 1) was due. */
export interface OrderViolation {
  readonly event_id: string;
  readonly key: string;
  readonly expected: number;
  readonly got: number;
}

const TABLES = (prefix: string) => `
CREATE TABLE IF NOT EXISTS ${prefix}side_effects (
  event_id TEXT PRIMARY KEY,
  key      TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  applied  INTEGER NOT NULL,
  pid      INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ${prefix}key_state (key TEXT PRIMARY KEY, last_sequence INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS ${prefix}order_violations (
  event_id TEXT NOT NULL,
  key      TEXT NOT NULL,
  expected INTEGER NOT NULL,
  got      INTEGER NOT NULL
);`;

/** The ledger's tables in PostgreSQL schema `schema` (which must exist). */
export function postgresLedgerSql(schema: string): string {
  return TABLES(`"${schema}".`);
}

/** The ledger's tables in a SQLite database. */
export const SQLITE_LEDGER_SQL = TABLES('');

/** Applies `event` to the PostgreSQL ledger in `schema` through the inbox transaction `tx`. */
export async function applyPostgresEffect(
  tx: SqlExecutor,
  schema: string,
  event: ConsumedEvent,
  pid: number,
): Promise<void> {
  const s = `"${schema}"`;
  const [state] = await tx.execute<{ last_sequence: number }>(
    `SELECT last_sequence FROM ${s}.key_state WHERE key = $1`,
    [event.key],
  );
  const expected = (state?.last_sequence ?? 0) + 1;
  if (event.sequence !== expected) {
    await tx.execute(
      `INSERT INTO ${s}.order_violations (event_id, key, expected, got) VALUES ($1, $2, $3, $4)`,
      [event.id, event.key, expected, event.sequence],
    );
  }
  await tx.execute(
    `INSERT INTO ${s}.side_effects (event_id, key, sequence, applied, pid) VALUES ($1, $2, $3, 1, $4)
     ON CONFLICT (event_id) DO UPDATE SET applied = side_effects.applied + 1`,
    [event.id, event.key, event.sequence, pid],
  );
  await tx.execute(
    `INSERT INTO ${s}.key_state (key, last_sequence) VALUES ($1, $2)
     ON CONFLICT (key) DO UPDATE SET last_sequence = excluded.last_sequence`,
    [event.key, event.sequence],
  );
}

/** Applies `event` to the SQLite ledger through the inbox transaction's connection `db`. */
export function applySqliteEffect(db: SqliteDatabase, event: ConsumedEvent, pid: number): void {
  const state = db.prepare('SELECT last_sequence FROM key_state WHERE key = ?').pluck().get(event.key) as
    | number
    | undefined;
  const expected = (state ?? 0) + 1;
  if (event.sequence !== expected) {
    db.prepare('INSERT INTO order_violations (event_id, key, expected, got) VALUES (?, ?, ?, ?)').run(
      event.id,
      event.key,
      expected,
      event.sequence,
    );
  }
  db.prepare(
    `INSERT INTO side_effects (event_id, key, sequence, applied, pid) VALUES (?, ?, ?, 1, ?)
     ON CONFLICT (event_id) DO UPDATE SET applied = applied + 1`,
  ).run(event.id, event.key, event.sequence, pid);
  db.prepare(
    `INSERT INTO key_state (key, last_sequence) VALUES (?, ?)
     ON CONFLICT (key) DO UPDATE SET last_sequence = excluded.last_sequence`,
  ).run(event.key, event.sequence);
}

/**
 * Checks a ledger against what was committed: returns one message per problem (empty when every committed
 * event was applied exactly once, nothing else was applied, and each key's sequences run 1, 2, 3... in the
 * order applied). `committed` maps event id to its key and the sequence the outbox gave it.
 */
export function ledgerProblems(
  committed: ReadonlyMap<string, { key: string; sequence: number }>,
  rows: readonly LedgerRow[],
  violations: readonly OrderViolation[],
): string[] {
  const problems: string[] = [];
  const byId = new Map(rows.map((r) => [r.event_id, r]));
  const lost = [...committed.keys()].filter((id) => !byId.has(id));
  if (lost.length > 0) {
    problems.push(
      `${lost.length} of ${committed.size} committed events were never applied (first: ${lost.slice(0, 3).join(', ')})`,
    );
  }
  const phantom = rows.filter((r) => !committed.has(r.event_id));
  if (phantom.length > 0) {
    problems.push(
      `${phantom.length} applied events were never committed (rolled back or invented; first: ${phantom[0]!.event_id})`,
    );
  }
  const repeated = rows.filter((r) => r.applied !== 1);
  if (repeated.length > 0) {
    problems.push(
      `${repeated.length} side effects applied more than once (first: ${repeated[0]!.event_id} x${repeated[0]!.applied})`,
    );
  }
  const mismatched = rows.filter((r) => {
    const c = committed.get(r.event_id);
    return c !== undefined && (c.key !== r.key || c.sequence !== r.sequence);
  });
  if (mismatched.length > 0) {
    problems.push(
      `${mismatched.length} applied events carry another key or sequence than the outbox gave them`,
    );
  }
  if (violations.length > 0) {
    const v = violations[0]!;
    problems.push(
      `${violations.length} per-key order violations (first: key ${v.key} expected sequence ${v.expected}, got ${v.got})`,
    );
  }
  // No gap: each key's applied sequences are exactly 1..n.
  const perKey = new Map<string, number[]>();
  for (const r of rows) {
    const list = perKey.get(r.key);
    if (list) list.push(r.sequence);
    else perKey.set(r.key, [r.sequence]);
  }
  const gaps: string[] = [];
  for (const [key, sequences] of perKey) {
    sequences.sort((a, b) => a - b);
    const gap = sequences.findIndex((s, i) => s !== i + 1);
    if (gap >= 0) gaps.push(`key ${key}: expected sequence ${gap + 1}, found ${sequences[gap]}`);
  }
  if (gaps.length > 0) {
    problems.push(
      `${gaps.length} keys have a sequence gap or repeat among applied events (${gaps.slice(0, 3).join('; ')}${gaps.length > 3 ? '; ...' : ''})`,
    );
  }
  return problems;
}
