/**
 * Child process of the cross-process trace test: the producer. Inside an application span `place order`, one
 * transaction writes two business rows and appends their events to the SQLite outbox, then it reports its spans.
 * argv: <app.db>
 */
import { trace } from '@opentelemetry/api';
import { EnrollmentCreated } from '@sluice/example-enrollments';
import { createSqliteOutbox, openDatabase } from '@sluice/sqlite';
import { registerIpcTracing } from './ipc-tracing.js';

const [appPath] = process.argv.slice(2);
if (!appPath) throw new Error('usage: traced-producer-process <app.db>');
const report = registerIpcTracing();
const db = openDatabase(appPath);
db.exec('CREATE TABLE IF NOT EXISTS enrollments (id TEXT PRIMARY KEY, student_id TEXT NOT NULL)');
const outbox = createSqliteOutbox(db, { source: 'urn:service:enrollments', migrate: true });

trace.getTracer('enrollments-service').startActiveSpan('place order', (span) => {
  db.transaction(() => {
    for (const studentId of ['S-1', 'S-2']) {
      const data = {
        enrollmentId: crypto.randomUUID(),
        courseId: 'C-101',
        studentId,
        enrolledAt: new Date().toISOString(),
      };
      db.prepare('INSERT INTO enrollments (id, student_id) VALUES (?, ?)').run(data.enrollmentId, studentId);
      outbox.append(db, EnrollmentCreated, data);
    }
  })();
  span.end();
});
db.close();
await report('producer');
