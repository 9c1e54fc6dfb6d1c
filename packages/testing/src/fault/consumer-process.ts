/**
 * Child process for fault tests: runs the enrollments projection as consumer group `fault` until killed.
 * argv: <consumer.db> <bus.db> <memberId>
 */
import { consume } from '@sluice/core';
import { enrollmentProjection } from '@sluice/example-enrollments';
import { createLogTransport, createSqliteInbox, openDatabase } from '@sluice/sqlite';

const [consumerPath, busPath, memberId] = process.argv.slice(2);
if (!consumerPath || !busPath || !memberId)
  throw new Error('usage: consumer-process <consumer.db> <bus.db> <memberId>');
const db = openDatabase(consumerPath);
const consumer = consume({
  transport: createLogTransport({ path: busPath, sessionTimeoutMs: 1500 }),
  group: 'fault',
  memberId,
  inbox: createSqliteInbox(db, { migrate: true }),
  handlers: enrollmentProjection(db),
});
process.send?.({ ready: true });
process.once('SIGTERM', () => void consumer.stop().then(() => process.exit(0)));
await consumer.done;
