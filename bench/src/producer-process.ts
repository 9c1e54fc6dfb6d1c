/**
 * Child process for the latency benchmark: the producing service. Appends `rate` events/s for `seconds`,
 * each in its own transaction, and reports each event's commit time to the parent over IPC.
 * argv: <app.db> <rate> <seconds>
 */
import { sleep } from '@sluice/core/adapter';
import { EnrollmentProgressed } from '@sluice/example-enrollments';
import { createSqliteOutbox, openDatabase } from '@sluice/sqlite';

const [appPath, rateArg, secondsArg] = process.argv.slice(2);
const rate = Number(rateArg);
const total = rate * Number(secondsArg);
const app = openDatabase(appPath!);
const outbox = createSqliteOutbox(app, { source: 'urn:service:bench', migrate: true });
const keys = Array.from({ length: 500 }, () => crypto.randomUUID());
const now = () => performance.timeOrigin + performance.now();
let batch: [string, number][] = [];
const t0 = performance.now();
for (let i = 0; i < total; i++) {
  const due = t0 + (i * 1000) / rate;
  const wait = due - performance.now();
  if (wait > 1) await sleep(wait);
  const r = outbox.append(app, EnrollmentProgressed, {
    enrollmentId: keys[i % keys.length]!,
    progress: i % 101,
  });
  batch.push([r.id, now()]);
  if (batch.length >= 100) {
    process.send?.({ committed: batch });
    batch = [];
  }
}
process.send?.({ committed: batch, done: (performance.now() - t0) / 1000 });
app.close();
process.disconnect?.();
