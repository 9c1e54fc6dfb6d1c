/**
 * Child process for the "consumer killed mid-handler" fault test: consumer group `mid` on the embedded log,
 * with its inbox and side-effect ledger in PostgreSQL or SQLite. It opens everything, sends `{ warm: true }`
 * and waits for `{ go: true, block: [event ids] }` (so the test can start the next one while this one runs).
 * Then it consumes; for an event of `block`, the handler writes its side effect inside the inbox transaction,
 * reads it back there, sends `{ blocked }` and never returns: the test SIGKILLs it with the transaction open.
 * argv: postgres <url> <schema> <bus.db> | sqlite <consumer.db> - <bus.db>
 */
import { type Consumer, createConsumer, errorMessage, handle } from '@sluice/core';
import { EnrollmentProgressed } from '@sluice/example-enrollments';
import { createPostgresInbox, type SqlExecutor } from '@sluice/postgres';
import { createLogTransport, createSqliteInbox, openDatabase, type SqliteDatabase } from '@sluice/sqlite';
import pg from 'pg';
import { applyPostgresEffect, applySqliteEffect } from './side-effect-ledger.js';

/** What the child says when its handler holds a chosen event's transaction open. */
export interface BlockedMessage {
  readonly blocked: string;
  readonly key: string;
  readonly sequence: number;
  /** The side effect's `applied` as read inside the open transaction: 1 if the write happened. */
  readonly seenInTx: number | null;
  readonly pid: number;
}

/** The test's go-ahead: which event ids to block on. */
export interface GoMessage {
  readonly go: true;
  readonly block: readonly string[];
}

const [backend, target, schema, busPath] = process.argv.slice(2);
if ((backend !== 'postgres' && backend !== 'sqlite') || !target || !schema || !busPath)
  throw new Error(
    'usage: mid-handler-consumer-process postgres|sqlite <url|consumer.db> <schema|-> <bus.db>',
  );

const forever = new Promise<never>(() => undefined);
let block = new Set<string>();
const blocked = (m: BlockedMessage) => {
  process.send?.(m);
  return forever;
};

const transport = createLogTransport({ path: busPath, sessionTimeoutMs: 1500 });
let start: () => Consumer<SqlExecutor> | Consumer<SqliteDatabase>;
if (backend === 'postgres') {
  const pool = new pg.Pool({ connectionString: target, max: 2 });
  pool.on('error', () => undefined);
  const inbox = await createPostgresInbox(pool, { schema });
  start = () =>
    createConsumer<SqlExecutor>({
      transport,
      group: 'mid',
      memberId: 'member-1',
      inbox,
      handlers: [
        handle(EnrollmentProgressed, async (event, { tx }: { tx: SqlExecutor }) => {
          await applyPostgresEffect(tx, schema, event, process.pid);
          if (!block.has(event.id)) return;
          const [row] = await tx.execute<{ applied: number }>(
            `SELECT applied FROM "${schema}".side_effects WHERE event_id = $1`,
            [event.id],
          );
          await blocked({
            blocked: event.id,
            key: event.key,
            sequence: event.sequence,
            seenInTx: row?.applied ?? null,
            pid: process.pid,
          });
        }),
      ],
    });
} else {
  const db = openDatabase(target);
  const inbox = createSqliteInbox(db);
  start = () =>
    createConsumer<SqliteDatabase>({
      transport,
      group: 'mid',
      memberId: 'member-1',
      inbox,
      handlers: [
        handle(EnrollmentProgressed, async (event, { tx }: { tx: SqliteDatabase }) => {
          applySqliteEffect(tx, event, process.pid);
          if (!block.has(event.id)) return;
          const applied = tx
            .prepare('SELECT applied FROM side_effects WHERE event_id = ?')
            .pluck()
            .get(event.id);
          await blocked({
            blocked: event.id,
            key: event.key,
            sequence: event.sequence,
            seenInTx: (applied as number | undefined) ?? null,
            pid: process.pid,
          });
        }),
      ],
    });
}

process.on('message', (m: GoMessage) => {
  if (!m.go) return;
  block = new Set(m.block);
  start().done.catch((error: unknown) => {
    process.stderr.write(`mid-handler consumer died: ${errorMessage(error)}\n`);
    process.exit(1);
  });
});
process.send?.({ warm: true });
