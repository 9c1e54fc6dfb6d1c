/**
 * Child process for fault tests: runs the enrollments projection as consumer group `fault` until killed.
 * argv: <consumer.db> <bus.db | TransportConfig as JSON> <memberId>
 */
import { createConsumer, createTransport, type TransportConfig } from '@sluice/core';
import { enrollmentProjection } from '@sluice/example-enrollments';
import { createLogTransport, createSqliteInbox, openDatabase } from '@sluice/sqlite';

const [consumerPath, bus, memberId] = process.argv.slice(2);
if (!consumerPath || !bus || !memberId)
  throw new Error('usage: consumer-process <consumer.db> <bus.db | transport config JSON> <memberId>');
const db = openDatabase(consumerPath);
const transport = bus.startsWith('{')
  ? await createTransport(JSON.parse(bus) as TransportConfig)
  : createLogTransport({ path: bus, sessionTimeoutMs: 1500 });
const consumer = createConsumer({
  transport,
  group: 'fault',
  memberId,
  inbox: createSqliteInbox(db, { migrate: true }),
  handlers: enrollmentProjection(db),
});
process.send?.({ ready: true });
process.once('SIGTERM', () => void consumer.stop().then(() => process.exit(0)));
await consumer.done;
