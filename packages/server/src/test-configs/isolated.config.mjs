// A service config for the isolation test: a working relay and consumer on SQLite and the embedded log, and a
// consumer whose database does not answer (a closed port, with a password that must never be shown).
import { defineConfig, env } from '@sluice/core';
import { enrollmentsTopic, progressReport } from '@sluice/example-enrollments';

export default defineConfig({
  restartDelayMs: 200,
  stores: {
    app: env('ENROLLMENTS_DB'),
    reports: env('REPORTS_DB'),
    away: 'postgres://sluice:s3cr3t-pw@127.0.0.1:1/nowhere',
  },
  transports: { bus: env('SLUICE_BUS') },
  pipelines: {
    'enrollments-relay': { kind: 'relay', store: 'app', transport: 'bus', topics: [enrollmentsTopic] },
    'course-report': {
      kind: 'consumer',
      store: 'reports',
      transport: 'bus',
      group: 'course-report',
      handlers: progressReport,
    },
    'audit-copy': {
      kind: 'consumer',
      store: 'away',
      transport: 'bus',
      group: 'audit-copy',
      handlers: progressReport,
    },
  },
});
