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
    assert.deepEqual(types(change('insert', undefined, row({ state: 'P' }))), ['course.published']);
    assert.deepEqual(types(change('insert', undefined, row())), []);
    assert.deepEqual(types(change('update', row(), row({ state: 'P' }))), ['course.published']);
    assert.deepEqual(types(change('update', row(), row({ name: 'Databases 2' }))), [], 'a draft edit');
  });

  it('updates a published course when what students see changes, not for internal columns', () => {
    const live = row({ state: 'P' });
    assert.deepEqual(types(change('update', live, { ...live, seats: 40 })), ['course.updated']);
    assert.deepEqual(types(change('update', live, { ...live, name: 'Data' })), ['course.updated']);
    assert.deepEqual(types(change('update', live, { ...live, internal_cost: '900.00' })), []);
    assert.deepEqual(types(change('update', live, { ...live, state: 'X' })), [], 'retired');
    assert.deepEqual(types(change('delete', live, undefined)), []);
  });

  it('carries the public fields only, keyed by the shared CourseId', () => {
    const [event] = mapCourseChange(change('insert', undefined, row({ state: 'P' })));
    assert.deepEqual(event?.data, { courseId: 'C-101', title: 'Databases', seats: 30 });
    assert.equal(event?.contract.key.name, 'courseId');
  });
});
