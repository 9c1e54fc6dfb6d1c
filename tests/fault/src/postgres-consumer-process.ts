/**
 * Child process for the PostgreSQL restart fault test: consumer group `fault` on the embedded log, with its
 * inbox and side-effect ledger in PostgreSQL schema <schema> (the ledger is written in the inbox transaction).
 * Runs until killed; sends `{ ready: true }`, then `{ stats }` every 250 ms. It does nothing special about
 * the server restarting: surviving that is the consumer runtime's and the inbox's job.
 * argv: <postgres url> <schema> <bus.db> <memberId>
 */
import { type ConsumerStats, createConsumer, errorMessage, handle, jsonLogger } from '@sluice/core';
import { EnrollmentProgressed } from '@sluice/example-enrollments';
import { createPostgresInbox, type SqlExecutor } from '@sluice/postgres';
import { createLogTransport } from '@sluice/sqlite';
import pg from 'pg';
import { applyPostgresEffect } from './side-effect-ledger.js';

/** What the child reports to the test. */
export interface ConsumerReport {
  readonly stats: ConsumerStats;
  readonly lastError: string | null;
}

const [url, schema, busPath, memberId] = process.argv.slice(2);
if (!url || !schema || !busPath || !memberId)
  throw new Error('usage: postgres-consumer-process <postgres url> <schema> <bus.db> <memberId>');

const pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 5000 });
// node-postgres: a pooled connection that is idle when the server goes away is dropped and reported here.
pool.on('error', () => undefined);
const inbox = await createPostgresInbox(pool, { schema });
let lastError: string | null = null;
const consumer = createConsumer<SqlExecutor>({
  transport: createLogTransport({ path: busPath, sessionTimeoutMs: 1500 }),
  group: 'fault',
  memberId,
  inbox,
  logger: jsonLogger('consumer', 'warn'),
  handlers: [
    handle(EnrollmentProgressed, (event, { tx }: { tx: SqlExecutor }) =>
      applyPostgresEffect(tx, schema, event, process.pid),
    ),
  ],
  onOutcome: (o) => {
    if (o.kind === 'retry') lastError = errorMessage(o.error);
  },
});
const report = () => process.send?.({ stats: consumer.stats(), lastError } satisfies ConsumerReport);
process.send?.({ ready: true });
setInterval(report, 250).unref();
process.once('SIGTERM', () => void consumer.stop().then(() => process.exit(0)));
await consumer.done;
