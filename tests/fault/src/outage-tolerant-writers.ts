import { randomUUID } from 'node:crypto';
import { sleep } from '@sluice/core/adapter';
import { EnrollmentProgressed } from '@sluice/example-enrollments';
import { type AppendResult, fromPg, type PostgresOutbox } from '@sluice/postgres';
import type pg from 'pg';

/** An event a writer appended, with the sequence the outbox gave it in that transaction. */
export interface Written {
  readonly key: string;
  readonly sequence: number;
}

/**
 * What the writers know after a run. An event is in exactly one of the three: `committed` (COMMIT
 * succeeded), `rolledBack` (rolled back on purpose, or its transaction failed before COMMIT was sent, so the
 * server rolled it back), or `unknown` (the connection broke while COMMIT was in flight: it may have
 * committed or not; look it up in the business table, see {@link resolveUnknown}).
 */
export interface WriterLedger {
  readonly committed: Map<string, Written>;
  readonly rolledBack: Set<string>;
  readonly unknown: Map<string, Written>;
  /** Transactions that failed on a lost connection or a server that was down (before or at COMMIT). */
  connectionErrors: number;
}

/** The business table the writers insert into, in the outbox's transaction: the source of truth of commits. */
export function businessTableSql(schema: string): string {
  return `CREATE TABLE IF NOT EXISTS "${schema}".progress_log (
  event_id uuid    PRIMARY KEY,
  key      text    NOT NULL,
  sequence integer NOT NULL
)`;
}

/** SQLSTATE classes and Node codes of a dropped, refused or not-yet-ready connection. */
const CONNECTION_SQLSTATE = /^(08...|57P0[1-3]|53300)$/;
const CONNECTION_NODE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

/** Whether `error` means the connection was lost or the server was unavailable (shutting down, starting up). */
export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return CONNECTION_SQLSTATE.test(code) || CONNECTION_NODE.has(code);
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable/i.test(
    String((error as { message?: unknown } | null)?.message ?? error),
  );
}

/**
 * `workers` concurrent writers, each looping until `until()`: BEGIN, append an `enrollment.progressed` event for
 * one of `keys` (so several writers often queue on one key's sequence), insert the business row, sometimes
 * hold the transaction a little, then ROLLBACK (10%) or COMMIT. A connection error (the server is being
 * restarted) before COMMIT means rolled back; one at COMMIT means unknown. Any other error fails the run.
 */
export async function runOutageTolerantWriters(options: {
  readonly pool: pg.Pool;
  readonly outbox: PostgresOutbox;
  readonly schema: string;
  readonly keys: readonly string[];
  readonly workers: number;
  /** Pause of each writer between transactions, so the consumer keeps up on a fast machine. */
  readonly pauseMs: number;
  readonly until: () => boolean;
}): Promise<WriterLedger> {
  const { pool, outbox, keys, until } = options;
  const insertSql = `INSERT INTO "${options.schema}".progress_log (event_id, key, sequence) VALUES ($1, $2, $3)`;
  const ledger: WriterLedger = {
    committed: new Map(),
    rolledBack: new Set(),
    unknown: new Map(),
    connectionErrors: 0,
  };
  let n = 0;
  const worker = async () => {
    while (!until()) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        if (!isConnectionError(error)) throw error;
        await sleep(20); // the server is down or starting up
        continue;
      }
      // A checked-out connection that the server drops emits 'error' on the client: without a listener that
      // would crash the process. The statement in flight (if any) rejects with the error too.
      let broken: Error | undefined;
      const onError = (error: Error) => {
        broken = error;
      };
      client.on('error', onError);
      let appended: AppendResult | undefined;
      let commitSent = false;
      try {
        await client.query('BEGIN');
        const key = keys[Math.floor(Math.random() * keys.length)]!;
        appended = await outbox.append(fromPg(client), EnrollmentProgressed, {
          enrollmentId: key,
          progress: n++ % 101,
        });
        await client.query(insertSql, [appended.id, appended.key, appended.sequence]);
        if (Math.random() < 0.1) await client.query('SELECT pg_sleep(0.01)');
        if (Math.random() < 0.1) {
          await client.query('ROLLBACK');
          ledger.rolledBack.add(appended.id);
        } else {
          commitSent = true;
          const { command } = await client.query('COMMIT');
          if (command === 'ROLLBACK') ledger.rolledBack.add(appended.id);
          else ledger.committed.set(appended.id, { key: appended.key, sequence: appended.sequence });
        }
      } catch (error) {
        broken ??= error instanceof Error ? error : new Error(String(error));
        if (!isConnectionError(error)) throw error;
        ledger.connectionErrors++;
        if (appended) {
          // Before COMMIT went out, the transaction cannot have committed; at COMMIT, nobody knows yet.
          if (commitSent) ledger.unknown.set(appended.id, { key: appended.key, sequence: appended.sequence });
          else ledger.rolledBack.add(appended.id);
        }
      } finally {
        client.off('error', onError);
        client.release(broken ?? false);
      }
      await sleep(options.pauseMs);
    }
  };
  await Promise.all(Array.from({ length: options.workers }, worker));
  return ledger;
}

/**
 * Settles every unknown outcome from the business table (which commits or rolls back with the event): adds
 * each unknown event to `committed` or `rolledBack` (it stays listed in `unknown`) and returns how many went
 * each way. Retries while the server is still coming up.
 */
export async function resolveUnknown(
  pool: pg.Pool,
  schema: string,
  ledger: WriterLedger,
): Promise<{ committed: number; rolledBack: number }> {
  if (ledger.unknown.size === 0) return { committed: 0, rolledBack: 0 };
  const ids = [...ledger.unknown.keys()];
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const { rows } = await pool.query<{ event_id: string }>(
        `SELECT event_id FROM "${schema}".progress_log WHERE event_id = ANY ($1::uuid[])`,
        [ids],
      );
      const found = new Set(rows.map((r) => r.event_id));
      for (const [id, written] of ledger.unknown) {
        if (found.has(id)) ledger.committed.set(id, written);
        else ledger.rolledBack.add(id);
      }
      return { committed: found.size, rolledBack: ledger.unknown.size - found.size };
    } catch (error) {
      if (!isConnectionError(error) || Date.now() > deadline) throw error;
      await sleep(100);
    }
  }
}

/** `count` fresh enrollment ids to write on. */
export function enrollmentKeys(count: number): string[] {
  return Array.from({ length: count }, () => randomUUID());
}
