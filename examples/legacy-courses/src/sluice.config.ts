// One `sluice run` process for two teams' pipelines (as a platform team might deploy it):
// - catalogue-changes: the legacy catalogue's `course` table, captured from PostgreSQL's log (no change to the
//   legacy code) and mapped to catalogue events;
// - enrollments-relay: the enrollments service's transactional outbox, shipped to the bus;
// - course-report: a consumer applying enrollment events once each into its own database.
//
//   npx sluice migrate --db enrollments-app.db && npx sluice migrate --db enrollments-reports.db
//   CATALOGUE_DATABASE_URL=postgres://sluice:sluice@127.0.0.1:55432/sluice \
//     npx sluice run --config examples/legacy-courses/src/sluice.config.ts
//
// The slot and publication are created once, like a migration (`createChangeCapture` from @sluice/postgres/cdc,
// see docs/cdc.md). Every URL and path comes from the environment, with defaults for a local run.
import { defineConfig, env } from '@sluice/core';
import { enrollmentsTopic, progressReport } from '@sluice/example-enrollments';
import { createPostgresChangeSource } from '@sluice/postgres/cdc';
import { catalogueTopic, courseListingTopic } from './contracts.js';
import { mapCourseChange } from './course-mapping.js';

export default defineConfig({
  http: { host: '127.0.0.1', port: 9400 },
  vars: {
    catalogueUrl: env('CATALOGUE_DATABASE_URL'),
    slot: env('CATALOGUE_SLOT', 'catalogue_cdc'),
    publication: env('CATALOGUE_PUBLICATION', 'catalogue_pub'),
  },
  stores: {
    app: env('ENROLLMENTS_DB', 'enrollments-app.db'),
    reports: env('REPORTS_DB', 'enrollments-reports.db'),
  },
  transports: {
    bus: env('SLUICE_BUS', 'sluice-bus.db'),
  },
  pipelines: {
    'catalogue-changes': {
      kind: 'changes',
      transport: 'bus',
      topics: [catalogueTopic, courseListingTopic],
      changes: (vars) => ({
        source: createPostgresChangeSource({
          connectionString: vars['catalogueUrl']!,
          slot: vars['slot']!,
          publication: vars['publication']!,
        }),
        map: mapCourseChange,
        eventSource: 'urn:service:catalogue',
      }),
    },
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
