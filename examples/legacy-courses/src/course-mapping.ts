import { type ChangeMapping, mapped } from '@sluice/core';
import { CoursePublished, CourseUpdated } from './contracts.js';
import type { LegacyCourseRow } from './legacy-schema.js';

/**
 * From a change of the legacy table to the catalogue's contract events. What students see decides: a course
 * that becomes published ('P') is `course.published`; a published course whose title or seats change is
 * `course.updated`; drafts, retirements and internal columns (the cost, the timestamp) publish nothing. The
 * table needs full before images (`REPLICA IDENTITY FULL`) to tell a publication from an edit.
 */
export const mapCourseChange: ChangeMapping = (change) => {
  if (change.operation === 'delete') return [];
  const after = change.after as unknown as LegacyCourseRow;
  const before = change.before as unknown as LegacyCourseRow | undefined;
  if (after.state !== 'P') return [];
  const data = { courseId: after.course_code, title: after.name, seats: after.seats };
  if (change.operation === 'insert' || before?.state !== 'P') return [mapped(CoursePublished, data)];
  if (before.name !== after.name || before.seats !== after.seats) return [mapped(CourseUpdated, data)];
  return [];
};
