import { defineEvent, defineKey, defineTopic } from '@sluice/core';
import { z } from 'zod';

/**
 * The contract the transport suite sends (the shape of the enrollments example's `enrollment.progressed`,
 * declared here so this package depends on core only).
 */
const EnrollmentId = defineKey('enrollmentId', z.uuid(), {
  description: 'one student enrolled in one course',
});

export const EnrollmentProgressed = defineEvent({
  type: 'enrollment.progressed',
  version: 1,
  key: EnrollmentId,
  topic: defineTopic({ name: 'enrollments', kind: 'event', partitions: 8 }),
  description: "The student's progress through the course changed (percent complete).",
  schema: z.object({ enrollmentId: EnrollmentId.schema, progress: z.int().min(0).max(100) }),
});
