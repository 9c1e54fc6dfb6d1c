export * from './contracts.js';
export {
  type PostgresProjectionOptions,
  postgresEnrollmentProjection,
  postgresProjectionSchema,
} from './postgres-projection.js';
export {
  createPostgresEnrollmentsService,
  PostgresEnrollmentsService,
  type PostgresEnrollmentsServiceOptions,
  postgresServiceSchema,
} from './postgres-service.js';
export { progressReport } from './progress-report.js';
export { enrollmentProjection, PROJECTION_SCHEMA, type ProjectionHooks } from './projection.js';
export { CourseFull, EnrollmentsService, RolledBack, SERVICE_SCHEMA, serviceStatements } from './service.js';
