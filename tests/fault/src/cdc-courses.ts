import { type ChangeMapping, defineEvent, defineKey, defineTopic, mapped } from '@sluice/core';
import { z } from 'zod';

/** The legacy table the CDC fault test writes to, and its mapping to contract events. */
export const coursesTableSql = (table: string) =>
  `CREATE TABLE ${table} (id int PRIMARY KEY, title text NOT NULL, published boolean NOT NULL)`;

export const CourseId = defineKey('courseId', z.string().regex(/^course-\d+$/), { description: 'a course' });
export const cdcCourses = defineTopic({ name: 'cdc-courses', kind: 'event', partitions: 4 });
export const CourseChanged = defineEvent({
  type: 'course.changed',
  version: 1,
  key: CourseId,
  topic: cdcCourses,
  description: 'a course row was inserted or updated (its state after the change)',
  schema: z.object({ courseId: z.string(), title: z.string(), published: z.boolean() }),
});
export const CourseRemoved = defineEvent({
  type: 'course.removed',
  version: 1,
  key: CourseId,
  topic: cdcCourses,
  description: 'a course row was deleted',
  schema: z.object({ courseId: z.string() }),
});

export const mapCourse: ChangeMapping = (c) => {
  if (c.operation === 'delete') return [mapped(CourseRemoved, { courseId: `course-${c.before!['id']}` })];
  // MariaDB's BOOLEAN is TINYINT(1): its binlog says 0 or 1.
  const row = c.after as { id: number; title: string; published: boolean | number };
  return [
    mapped(CourseChanged, {
      courseId: `course-${row.id}`,
      title: row.title,
      published: Boolean(row.published),
    }),
  ];
};
