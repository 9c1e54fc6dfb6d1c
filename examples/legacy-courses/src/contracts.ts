import { defineEvent, defineTopic } from '@sluice/core';
import { CourseId } from '@sluice/example-enrollments';
import { z } from 'zod';

/**
 * The catalogue's public events about courses. They use the shared `CourseId` key type that the enrollments
 * contracts use too: a consumer joins a course's events with enrollments' `courseId` locally, because the key
 * means the same thing in both.
 */
export const catalogueTopic = defineTopic({ name: 'catalogue-courses', kind: 'event', partitions: 4 });

const courseFields = {
  courseId: CourseId.schema,
  title: z.string().min(1),
  seats: z.int().min(0),
};

export const CoursePublished = defineEvent({
  type: 'course.published',
  version: 1,
  key: CourseId,
  topic: catalogueTopic,
  description: 'A course became visible in the catalogue: students can enroll from now on.',
  schema: z.object(courseFields),
});

export const CourseUpdated = defineEvent({
  type: 'course.updated',
  version: 1,
  key: CourseId,
  topic: catalogueTopic,
  description: 'A published course changed what students see (title or seats).',
  schema: z.object(courseFields),
});

/**
 * What the catalogue lists for each course now: the latest state per course (an entity topic, compacted), so
 * a new consumer rebuilds the catalogue from it instead of from history. Backfill snapshot rows land here.
 */
export const courseListingTopic = defineTopic({
  name: 'catalogue-course-listing',
  kind: 'entity',
  partitions: 4,
});

export const CourseListing = defineEvent({
  type: 'course.listing',
  version: 1,
  key: CourseId,
  topic: courseListingTopic,
  description: 'The catalogue listing of a course now: listed with its title and seats, or no longer listed.',
  schema: z.object({ ...courseFields, listed: z.boolean() }),
});
