import { defineEvent, defineKey, defineTopic } from '@sluice/core';
import { z } from 'zod';

/** Shared key types: the same name means the same identifier in every contract that uses it. */
export const EnrollmentId = defineKey('enrollmentId', z.uuid(), {
  description: 'Identifies one student enrolled in one course, issued by the enrollments service',
});
export const CourseId = defineKey('courseId', z.string().regex(/^C-\d{1,6}$/), {
  description: 'Identifies a course in the catalogue, e.g. C-101',
});
export const StudentId = defineKey('studentId', z.string().regex(/^S-\d{1,8}$/), {
  description: 'Identifies a student account, e.g. S-42',
});

/** All enrollment events, keyed by enrollment: a consumer sees one enrollment's events in order. */
export const enrollmentsTopic = defineTopic({ name: 'enrollments', kind: 'event', partitions: 8 });

export const EnrollmentCreated = defineEvent({
  type: 'enrollment.created',
  version: 1,
  key: EnrollmentId,
  topic: enrollmentsTopic,
  description: 'A student enrolled in a course.',
  schema: z.object({
    enrollmentId: EnrollmentId.schema,
    courseId: CourseId.schema,
    studentId: StudentId.schema,
    enrolledAt: z.iso.datetime(),
  }),
});

export const EnrollmentProgressed = defineEvent({
  type: 'enrollment.progressed',
  version: 1,
  key: EnrollmentId,
  topic: enrollmentsTopic,
  description: "The student's progress through the course changed (percent complete).",
  schema: z.object({
    enrollmentId: EnrollmentId.schema,
    progress: z.int().min(0).max(100),
  }),
});

export const EnrollmentCancelled = defineEvent({
  type: 'enrollment.cancelled',
  version: 1,
  key: EnrollmentId,
  topic: enrollmentsTopic,
  description: 'The enrollment was cancelled; the seat is free again.',
  schema: z.object({
    enrollmentId: EnrollmentId.schema,
    reason: z.enum(['student-request', 'course-closed', 'payment-failed']),
  }),
});

export const enrollmentContracts = [EnrollmentCreated, EnrollmentProgressed, EnrollmentCancelled] as const;
