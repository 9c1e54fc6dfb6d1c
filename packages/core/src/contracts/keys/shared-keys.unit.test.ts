import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defineEvent } from '../define-event.js';
import { defineKey, type KeyType } from '../define-key.js';
import { defineTopic } from '../define-topic.js';
import { buildLock } from '../lock/build-lock.js';
import { compareSharedKeys } from './compare-shared-keys.js';
import { listKeyCarriers } from './list-key-carriers.js';

const COURSE = 'Identifies a course in the catalogue, e.g. C-101';
const courseSchema = (pattern = /^C-\d{1,6}$/) => z.string().regex(pattern);
const courseKey = (pattern = /^C-\d{1,6}$/, description = COURSE) =>
  defineKey('courseId', courseSchema(pattern), { description });
const EnrollmentId = defineKey('enrollmentId', z.uuid(), { description: 'An enrollment' });
const topic = (name: string) => defineTopic({ name, kind: 'event', partitions: 4 });

/** The catalogue service's lock: course events keyed by `key`. */
function catalogue(key: KeyType = courseKey()) {
  const published = defineEvent({
    type: 'course.published',
    version: 1,
    key,
    topic: topic('catalogue-courses'),
    description: 'A course was published',
    schema: z.object({ courseId: key.schema, title: z.string() }),
  });
  return {
    name: '../catalogue/contracts.lock.json',
    lock: buildLock([published], { service: 'urn:service:catalogue' }),
  };
}

/** The enrollments service's lock: keyed by enrollment, carrying `courseId` as a field. */
function enrollments(courseField: z.ZodType = courseSchema()) {
  const created = defineEvent({
    type: 'enrollment.created',
    version: 1,
    key: EnrollmentId,
    topic: topic('enrollments'),
    description: 'A student enrolled',
    schema: z.object({ enrollmentId: EnrollmentId.schema, courseId: courseField }),
  });
  return buildLock([created], { service: 'urn:service:enrollments' });
}

describe('compareSharedKeys: a shared key across services', () => {
  it('finds nothing when both services declare the key alike, or a field carries it with its shape', () => {
    assert.deepEqual(compareSharedKeys(catalogue().lock, [catalogue()]), []);
    assert.deepEqual(compareSharedKeys(enrollments(), [catalogue()]), []);
    assert.deepEqual(compareSharedKeys(enrollments(courseSchema().nullable()), [catalogue()]), []);
  });

  it('reports a key whose schema differs, with both sides and the difference', () => {
    const own = { name: 'contracts.lock.json', lock: catalogue(courseKey(/^C-\d+$/)).lock };
    const [m, ...rest] = compareSharedKeys(own, [catalogue()]);
    assert.deepEqual(rest, []);
    assert.equal(m?.kind, 'schema');
    assert.equal(m?.key, 'courseId');
    assert.deepEqual(m?.own, {
      service: 'urn:service:catalogue',
      contract: 'course.published v1',
      field: 'courseId',
      as: 'key',
    });
    assert.equal(m?.difference, '/pattern: "^C-\\\\d+$" vs "^C-\\\\d{1,6}$"');
    assert.match(
      m?.message ?? '',
      /^key courseId: course\.published v1 \(urn:service:catalogue\) and course\.published v1 \(urn:service:catalogue\) declare different schemas/,
    );
  });

  it('reports a key whose meaning (description) differs', () => {
    const other = catalogue(courseKey(undefined, 'A classroom'));
    const mismatches = compareSharedKeys(catalogue().lock, [other]);
    assert.deepEqual(
      mismatches.map((m) => [m.kind, m.difference]),
      [['description', `"${COURSE}" vs "A classroom"`]],
    );
    assert.match(mismatches[0]?.message ?? '', /give it different meanings/);
  });

  it("reports a field named like the other service's key with another shape, from either side", () => {
    const own = { name: 'enrollments.lock.json', lock: enrollments(z.string()) };
    const [m] = compareSharedKeys(own, [catalogue()]);
    assert.equal(m?.kind, 'field');
    assert.deepEqual(m?.own, {
      service: 'urn:service:enrollments',
      contract: 'enrollment.created v1',
      field: 'courseId',
      as: 'field',
    });
    assert.equal(
      m?.message,
      'key courseId: field courseId of enrollment.created v1 (urn:service:enrollments) has another shape than the key of course.published v1 (urn:service:catalogue) (/pattern: (absent) vs "^C-\\\\d{1,6}$", field vs key); give the field the key\'s schema, or rename it if it is another identifier',
    );
    const reverse = compareSharedKeys(catalogue().lock, [{ name: 'e.json', lock: enrollments(z.string()) }]);
    assert.deepEqual(
      reverse.map((r) => [r.kind, r.own.as, r.other.as, r.other.field]),
      [['field', 'key', 'field', 'courseId']],
    );
    assert.match(reverse[0]?.message ?? '', /key vs field/);
  });

  it('names a lock without a service by the name it was given', () => {
    const { service: _, ...lock } = catalogue(courseKey(/^X$/)).lock;
    const [m] = compareSharedKeys(catalogue().lock, [{ name: 'other.json', lock }]);
    assert.equal(m?.other.service, 'other.json');
    assert.equal(m?.own.service, 'urn:service:catalogue');
  });
});

describe('listKeyCarriers: who can join with whom', () => {
  it('lists per key every event version carrying it, as key or field, across locks', () => {
    const keys = listKeyCarriers([
      { name: 'e.json', lock: enrollments() },
      catalogue(),
      { name: 'bad.json', lock: { ...enrollments(z.int()), service: 'urn:service:billing' } },
    ]);
    assert.deepEqual(
      keys.map((k) => [k.key, k.declaredBy]),
      [
        ['courseId', ['urn:service:catalogue']],
        ['enrollmentId', ['urn:service:enrollments', 'urn:service:billing']],
      ],
    );
    assert.equal(keys[0]?.description, COURSE);
    assert.deepEqual(
      keys[0]?.carriers.map((c) => [
        c.service,
        `${c.type} v${c.version}`,
        c.topic,
        c.field,
        c.as,
        c.sameShape,
      ]),
      [
        ['urn:service:enrollments', 'enrollment.created v1', 'enrollments', 'courseId', 'field', true],
        ['urn:service:catalogue', 'course.published v1', 'catalogue-courses', 'courseId', 'key', true],
        ['urn:service:billing', 'enrollment.created v1', 'enrollments', 'courseId', 'field', false],
      ],
    );
  });
});
