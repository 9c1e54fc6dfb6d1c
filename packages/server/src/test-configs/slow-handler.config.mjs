// A consumer whose handler takes far longer than the drain bound (PostgreSQL inbox: handlers may await), for
// the shutdown test: SIGTERM must exit at the bound, and a second SIGTERM at once.
import { defineConfig, env } from '@sluice/core';
import { EnrollmentCreated, enrollmentsTopic } from '@sluice/example-enrollments';

export default defineConfig({
  shutdownTimeoutMs: 1500,
  stores: {
    app: env('ENROLLMENTS_DB'),
    inbox: { kind: 'postgres', url: env('SLUICE_TEST_PG_URL'), schema: env('INBOX_SCHEMA') },
  },
  transports: { bus: env('SLUICE_BUS') },
  pipelines: {
    relay: { kind: 'relay', store: 'app', transport: 'bus', topics: [enrollmentsTopic] },
    slow: {
      kind: 'consumer',
      store: 'inbox',
      transport: 'bus',
      group: 'slow',
      handlers: (on) => [
        on(EnrollmentCreated, async () => {
          process.stdout.write('{"msg":"slow handler started"}\n');
          await new Promise((resolve) => setTimeout(resolve, 60_000));
        }),
      ],
    },
  },
});
