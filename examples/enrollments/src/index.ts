export * from './contracts.js';
export { enrollmentProjection, PROJECTION_SCHEMA, type ProjectionHooks } from './projection.js';
export { CourseFull, EnrollmentsService, RolledBack, SERVICE_SCHEMA, serviceStatements } from './service.js';
