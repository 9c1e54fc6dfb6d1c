/**
 * Child process of the cross-process trace test: a relay from the SQLite outbox to the embedded log. Once it has
 * published `count` events it stops and reports its spans.
 * argv: <app.db> <bus.db> <count>
 */
import { createRelay } from '@sluice/core';
import { enrollmentsTopic } from '@sluice/example-enrollments';
import { createLogTransport, createSqliteOutbox, openDatabase } from '@sluice/sqlite';
import { registerIpcTracing } from './ipc-tracing.js';

const [appPath, busPath, count] = process.argv.slice(2);
if (!appPath || !busPath || !count) throw new Error('usage: traced-relay-process <app.db> <bus.db> <count>');
const report = registerIpcTracing();
const db = openDatabase(appPath);
const bus = createLogTransport({ path: busPath });
const relay = createRelay({
  outbox: createSqliteOutbox(db, { source: 'urn:service:enrollments' }),
  transport: bus,
  topics: [enrollmentsTopic],
  idleWaitMs: 20,
}).start();
while ((await relay.stats()).published < Number(count)) await new Promise((r) => setTimeout(r, 20));
await relay.stop();
await bus.close();
db.close();
await report('relay');
