import { join } from 'node:path';
import { createConsumer } from '@sluice/core';
import { EnrollmentsService, enrollmentProjection, type ProjectionHooks } from '@sluice/example-enrollments';
import { createSqliteInbox, createSqliteOutbox, openDatabase } from '@sluice/sqlite';
import { type DemoStore, leaseOwnersOf } from './demo-store.js';

/**
 * The demo on the embedded default: the service's tables and outbox in `<dir>/app.db`, the consumer's tables
 * and inbox in `<dir>/consumer.db`. Both files stay in `dir` after the run.
 */
export function openSqliteDemoStore(dir: string, hooks: ProjectionHooks): DemoStore {
  const appFile = join(dir, 'app.db');
  const appDb = openDatabase(appFile);
  const outbox = createSqliteOutbox(appDb, { source: 'urn:service:enrollments', migrate: true });
  const service = new EnrollmentsService(appDb, outbox);
  for (let i = 0; i < 37; i++) service.openCourse(`C-${100 + i}`, 1_000_000);
  const consumerDb = openDatabase(join(dir, 'consumer.db'));
  const inbox = createSqliteInbox(consumerDb, { migrate: true });
  const handlers = enrollmentProjection(consumerDb, hooks);
  const applied = consumerDb.prepare('SELECT count(*) FROM side_effects').pluck();
  let closed = false;
  return {
    label: 'SQLite',
    service: {
      enroll: async (courseId, studentId, options) => service.enroll(courseId, studentId, options),
      recordProgress: async (id, progress, options) => service.recordProgress(id, progress, options),
      cancel: async (id, reason, options) => service.cancel(id, reason, options),
    },
    relayArgs: ['--db', appFile],
    relayEnv: {},
    consume: (options) => createConsumer({ ...options, inbox, handlers }),
    appliedCount: async () => applied.get() as number,
    async sideEffects() {
      const rows = consumerDb.prepare('SELECT event_id, applied, latency_ms FROM side_effects').all() as {
        event_id: string;
        applied: number;
        latency_ms: number;
      }[];
      return rows.map((r) => ({ eventId: r.event_id, applied: r.applied, latencyMs: r.latency_ms }));
    },
    orderViolations: async () =>
      consumerDb.prepare('SELECT count(*) FROM order_violations').pluck().get() as number,
    leaseOwners: () => leaseOwnersOf(outbox),
    info: () => ({ kind: 'sqlite' }),
    async close() {
      if (closed) return;
      closed = true;
      await outbox.close();
      appDb.close();
      consumerDb.close();
    },
  };
}
