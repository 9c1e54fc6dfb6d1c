import {
  type ChangeMapping,
  defineChangeMapping,
  type MappedEvent,
  mapped,
  type RowChange,
} from '@sluice/core';
import { CourseListing, CoursePublished, CourseUpdated } from './contracts.js';
import type { LegacyCourseRow } from './legacy-schema.js';

/**
 * From a change of the legacy table to the catalogue's contract events. What students see decides: a course
 * that becomes published ('P') is `course.published`; a published course whose title or seats change is
 * `course.updated`; each of those, and a published course retired or deleted, also updates its
 * `course.listing` on the entity topic. Drafts and internal columns (the cost, the timestamp) publish nothing.
 * A backfill's snapshot rows become listings only: the current state, not something that happened. A TRUNCATE
 * stops the relay (it cannot be told apart per course). The table
 * needs full before images (`REPLICA IDENTITY FULL`) to tell a publication from an edit. The `course` table's
 * contracts are declared (in any schema), so `sluice backfill --contracts` can check their backfill permission.
 */
export const mapCourseChange: ChangeMapping = defineChangeMapping({
  tables: { course: [CoursePublished, CourseUpdated, CourseListing] },
  map: mapCourse,
});

function mapCourse(change: RowChange): MappedEvent[] {
  const after = change.after as unknown as LegacyCourseRow | undefined;
  const before = change.before as unknown as LegacyCourseRow | undefined;
  if (change.operation === 'snapshot') return after?.state === 'P' ? [listing(after, true)] : [];
  if (change.operation === 'truncate') {
    // Every course went at once and the log does not say which were listed: stop rather than guess.
    throw new Error(
      'the legacy course table was truncated: the catalogue cannot say which listings to withdraw; advance the slot past this change (pg_replication_slot_advance), then backfill the table into a cleared listing topic',
    );
  }
  if (after?.state !== 'P') {
    // Deleted, retired or a draft: only a course that was listed changes the listing.
    return before?.state === 'P' ? [listing(before, false)] : [];
  }
  const data = { courseId: after.course_code, title: after.name, seats: after.seats };
  if (change.operation === 'insert' || before?.state !== 'P') {
    return [mapped(CoursePublished, data), listing(after, true)];
  }
  if (before.name !== after.name || before.seats !== after.seats) {
    return [mapped(CourseUpdated, data), listing(after, true)];
  }
  return [];
}

function listing(row: LegacyCourseRow, listed: boolean) {
  return mapped(CourseListing, { courseId: row.course_code, title: row.name, seats: row.seats, listed });
}
