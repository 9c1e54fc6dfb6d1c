// A service config for the outage test: the example's relay and consumer on SQLite, over a private Redis server
// (its URL from SLUICE_TEST_REDIS_URL) that the test starts late and kills mid-stream. A short first-connection
// timeout so that a Redis that is not there at start fails the pipeline's start quickly (the supervisor restarts it).
import { defineConfig, env } from '@sluice/core';
import { enrollmentsTopic, progressReport } from '@sluice/example-enrollments';

export default defineConfig({
  restartDelayMs: 200,
  stores: {
    app: env('ENROLLMENTS_DB'),
    reports: env('REPORTS_DB'),
  },
  transports: {
    bus: {
      kind: 'redis',
      url: env('SLUICE_TEST_REDIS_URL'),
      namespace: 'outage',
      options: { connectTimeoutMs: 1500 },
    },
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
