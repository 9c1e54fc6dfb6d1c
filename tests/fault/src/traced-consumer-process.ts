/**
 * Child process of the cross-process trace test: consumer group `billing` with a SQLite inbox, whose handler
 * writes an invoice inside a span of its own, `write invoice`. Once `count` events are applied it stops and
 * reports its spans.
 * argv: <billing.db> <bus.db> <count>
 */
import { trace } from '@opentelemetry/api';
import { createConsumer } from '@sluice/core';
import { EnrollmentCreated } from '@sluice/example-enrollments';
import { createLogTransport, createSqliteInbox, openDatabase } from '@sluice/sqlite';
import { registerIpcTracing } from './ipc-tracing.js';

const [billingPath, busPath, count] = process.argv.slice(2);
if (!billingPath || !busPath || !count) {
  throw new Error('usage: traced-consumer-process <billing.db> <bus.db> <count>');
}
const report = registerIpcTracing();
const db = openDatabase(billingPath);
db.exec('CREATE TABLE IF NOT EXISTS invoices (enrollment_id TEXT PRIMARY KEY)');
const bus = createLogTransport({ path: busPath, sessionTimeoutMs: 1500 });
const tracer = trace.getTracer('billing-service');
const consumer = createConsumer({
  transport: bus,
  group: 'billing',
  inbox: createSqliteInbox(db, { migrate: true }),
  handlers: (on) => [
    on(EnrollmentCreated, (event, { tx }) =>
      tracer.startActiveSpan('write invoice', (span) => {
        tx.prepare('INSERT INTO invoices (enrollment_id) VALUES (?)').run(event.key);
        span.end();
      }),
    ),
  ],
});
while (consumer.stats().applied < Number(count)) await new Promise((r) => setTimeout(r, 20));
await consumer.stop();
await bus.close();
db.close();
await report('consumer');
