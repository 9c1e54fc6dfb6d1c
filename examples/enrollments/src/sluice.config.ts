// The enrollments service as `sluice run` runs it:
//   npx sluice migrate --db enrollments-app.db && npx sluice migrate --db enrollments-reports.db
//   npx sluice run --config examples/enrollments/src/sluice.config.ts
// The application appends enrollment events to the outbox of ENROLLMENTS_DB in its own transactions; this service
// relays them onto the bus and keeps a per-course report in REPORTS_DB. Every URL or path comes from the
// environment, with a default for a local run.
import { defineConfig, env } from '@sluice/core';
import { enrollmentsTopic } from './contracts.js';
import { progressReport } from './progress-report.js';

export default defineConfig({
  http: { host: '127.0.0.1', port: 9400 },
  shutdownTimeoutMs: 10_000,
  stores: {
    app: env('ENROLLMENTS_DB', 'enrollments-app.db'),
    reports: env('REPORTS_DB', 'enrollments-reports.db'),
  },
  transports: {
    bus: env('SLUICE_BUS', 'enrollments-bus.db'),
  },
  pipelines: {
    'enrollments-relay': { kind: 'relay', store: 'app', transport: 'bus', topics: [enrollmentsTopic] },
    'course-report': {
      kind: 'consumer',
      store: 'reports',
      transport: 'bus',
      group: 'course-report',
      handlers: progressReport,
    },
  },
});
