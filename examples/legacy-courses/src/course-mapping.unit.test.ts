import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RowChange } from '@sluice/core';
import { mapCourseChange } from './course-mapping.js';
import type { LegacyCourseRow } from './legacy-schema.js';

const row = (over: Partial<LegacyCourseRow> = {}): LegacyCourseRow => ({
  course_code: 'C-101',
  name: 'Databases',
  state: 'D',
  seats: 30,
  internal_cost: '1200.00',
  ...over,
});

function change(
  operation: RowChange['operation'],
  before: LegacyCourseRow | undefined,
  after: LegacyCourseRow | undefined,
): RowChange {
  return {
    operation,
    schema: 'catalogue',
    table: 'course',
    before: before as unknown as RowChange['before'],
    after: after as unknown as RowChange['after'],
    transactionId: '1',
    commitTime: 0,
    position: '0/1#0',
    sequence: 1,
    index: 0,
  };
}

const types = (c: RowChange) => mapCourseChange(c).map((e) => e.contract.type);

describe('the legacy course table mapped to catalogue events', () => {
  it('publishes a course when it is inserted published or becomes published, never a draft', () => {
    assert.deepEqual(types(change('insert', undefined, row({ state: 'P' }))), [
      'course.published',
      'course.listing',
    ]);
    assert.deepEqual(types(change('insert', undefined, row())), []);
    assert.deepEqual(types(change('update', row(), row({ state: 'P' }))), [
      'course.published',
      'course.listing',
    ]);
    assert.deepEqual(types(change('update', row(), row({ name: 'Databases 2' }))), [], 'a draft edit');
  });

  it('updates a published course when what students see changes, not for internal columns', () => {
    const live = row({ state: 'P' });
    assert.deepEqual(types(change('update', live, { ...live, seats: 40 })), [
      'course.updated',
      'course.listing',
    ]);
    assert.deepEqual(types(change('update', live, { ...live, name: 'Data' })), [
      'course.updated',
      'course.listing',
    ]);
    assert.deepEqual(types(change('update', live, { ...live, internal_cost: '900.00' })), []);
  });

  it('takes a retired or deleted course off the listing, and leaves drafts out of it', () => {
    const live = row({ state: 'P' });
    const retired = mapCourseChange(change('update', live, { ...live, state: 'X' }));
    assert.deepEqual(
      retired.map((e) => [e.contract.type, e.data]),
      [['course.listing', { courseId: 'C-101', title: 'Databases', seats: 30, listed: false }]],
    );
    assert.deepEqual(types(change('delete', live, undefined)), ['course.listing']);
    assert.deepEqual(types(change('delete', row(), undefined)), [], 'a deleted draft was never listed');
    assert.deepEqual(types(change('update', row(), row({ state: 'X' }))), []);
  });

  it('maps a backfill snapshot row of a published course to its listing only', () => {
    const [listing, ...rest] = mapCourseChange(change('snapshot', undefined, row({ state: 'P', seats: 12 })));
    assert.deepEqual(rest, []);
    assert.equal(listing?.contract.topic.kind, 'entity');
    assert.deepEqual(listing?.data, { courseId: 'C-101', title: 'Databases', seats: 12, listed: true });
    assert.deepEqual(types(change('snapshot', undefined, row())), [], 'a draft is not listed');
  });

  it('refuses a TRUNCATE rather than guess which listings to withdraw', () => {
    assert.throws(() => mapCourseChange(change('truncate', undefined, undefined)), /truncated/);
  });

  it('carries the public fields only, keyed by the shared CourseId', () => {
    const [event] = mapCourseChange(change('insert', undefined, row({ state: 'P' })));
    assert.deepEqual(event?.data, { courseId: 'C-101', title: 'Databases', seats: 30 });
    assert.equal(event?.contract.key.name, 'courseId');
  });
});
