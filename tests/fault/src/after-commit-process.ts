/**
 * Child process for the after-commit-hook fault test. Commits one business transaction, tells the parent, then
 * (like an ORM "after save" hook, or the relay for the outbox) would send the event. The parent kills it with
 * SIGKILL right after the commit, before the send.
 * argv: <hook|outbox> <app.db> <bus.db>
 */
import { EnrollmentCreated, enrollmentsTopic } from '@sluice/example-enrollments';
import { createLogTransport, createSqliteOutbox, openDatabase } from '@sluice/sqlite';

const [mode, appPath, busPath] = process.argv.slice(2);
if ((mode !== 'hook' && mode !== 'outbox') || !appPath || !busPath) {
  throw new Error('usage: after-commit-process hook|outbox <app.db> <bus.db>');
}
const db = openDatabase(appPath);
db.exec(
  'CREATE TABLE IF NOT EXISTS enrollments (id TEXT PRIMARY KEY, course_id TEXT NOT NULL, student_id TEXT NOT NULL)',
);
const bus = createLogTransport({ path: busPath });
await bus.ensureTopic(enrollmentsTopic);
const outbox =
  mode === 'outbox'
    ? createSqliteOutbox(db, { source: 'urn:service:enrollments', migrate: true })
    : undefined;
const data = {
  enrollmentId: crypto.randomUUID(),
  courseId: 'C-101',
  studentId: 'S-1',
  enrolledAt: new Date().toISOString(),
};

db.transaction(() => {
  db.prepare('INSERT INTO enrollments (id, course_id, student_id) VALUES (?, ?, ?)').run(
    data.enrollmentId,
    data.courseId,
    data.studentId,
  );
  outbox?.append(db, EnrollmentCreated, data);
})();
// Committed. The hook would now send the event to the broker; the parent kills us before it can.
process.send?.({ committed: data.enrollmentId });
await new Promise((resolve) => process.once('message', resolve));
if (mode === 'hook') {
  const { encodeEnvelope } = await import('@sluice/core');
  const { envelopeOf, prepareEvent } = await import('@sluice/core/adapter');
  const envelope = envelopeOf(prepareEvent(EnrollmentCreated, data), 'urn:service:enrollments', 1);
  await bus.publish([
    {
      topic: enrollmentsTopic.name,
      key: data.enrollmentId,
      value: encodeEnvelope(envelope),
      id: envelope.id,
    },
  ]);
}
process.exit(0);
