export * from './contracts.js';
export { enrollmentProjection, PROJECTION_SCHEMA, type ProjectionHooks } from './projection.js';
export { EnrollmentsService, RolledBack, SERVICE_SCHEMA } from './service.js';
