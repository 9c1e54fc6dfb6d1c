import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { z } from 'zod';
import { ContractRegistryError } from '../../errors.js';
import { createRegistry } from '../contract-registry.js';
import { defineEvent } from '../define-event.js';
import { defineKey } from '../define-key.js';
import { defineTopic } from '../define-topic.js';

const COURSE = 'Identifies a course in the catalogue, e.g. C-101';
const courseSchema = z.string().regex(/^C-\d{1,6}$/);
const CourseId = defineKey('courseId', courseSchema, { description: COURSE });
const EnrollmentId = defineKey('enrollmentId', z.uuid(), { description: 'An enrollment' });
const courses = defineTopic({ name: 'courses', kind: 'event', partitions: 4 });
const enrollments = defineTopic({ name: 'enrollments', kind: 'event', partitions: 4 });

const CoursePublished = defineEvent({
  type: 'course.published',
  version: 1,
  key: CourseId,
  topic: courses,
  description: 'A course was published',
  schema: z.object({ courseId: courseSchema, title: z.string() }),
});

function enrolled(fields: Record<string, z.ZodType>, type = 'enrollment.created') {
  return defineEvent({
    type,
    version: 1,
    key: EnrollmentId,
    topic: enrollments,
    description: 'A student enrolled',
    schema: z.object({ enrollmentId: EnrollmentId.schema, ...fields }),
  });
}

function courseEvent(key: typeof CourseId, type = 'course.updated') {
  return defineEvent({
    type,
    version: 1,
    key,
    topic: courses,
    description: 'A course changed',
    schema: z.object({ courseId: key.schema }),
  });
}

function conflict(contracts: Parameters<typeof createRegistry>[0]): ContractRegistryError {
  try {
    createRegistry(contracts);
  } catch (error) {
    assert.ok(error instanceof ContractRegistryError, `expected ContractRegistryError, got ${String(error)}`);
    assert.equal(error.code, 'SLUICE_KEY_CONFLICT');
    assert.equal(error.retryable, false);
    return error;
  }
  assert.fail('createRegistry accepted contracts that disagree on a shared key');
}

describe('createRegistry: shared keys within a service', () => {
  it('accepts one key type object, and one key declared twice identically (two modules)', () => {
    const again = defineKey('courseId', z.string().regex(/^C-\d{1,6}$/), { description: COURSE });
    assert.equal(createRegistry([CoursePublished, courseEvent(CourseId)]).all().length, 2);
    assert.equal(createRegistry([CoursePublished, courseEvent(again)]).all().length, 2);
  });

  it('refuses one key name declared with another schema, naming both contracts, the key and the difference', () => {
    const loose = defineKey('courseId', z.string().regex(/^C-\d+$/), { description: COURSE });
    const e = conflict([CoursePublished, courseEvent(loose)]);
    assert.match(e.message, /course\.published v1 and course\.updated v1 both use the key courseId/);
    assert.match(e.message, /schemas differ \(\/pattern: "\^C-\\\\d\{1,6\}\$" vs "\^C-\\\\d\+\$"\)/);
    assert.match(e.message, /declare the key once with defineKey\('courseId', …\) and import it/);
  });

  it('refuses one key name declared with another description (another meaning)', () => {
    const other = defineKey('courseId', z.string().regex(/^C-\d{1,6}$/), { description: 'A room' });
    const e = conflict([CoursePublished, courseEvent(other)]);
    assert.match(
      e.message,
      /descriptions differ \("Identifies a course in the catalogue, e\.g\. C-101" vs "A room"\)/,
    );
    assert.doesNotMatch(e.message, /schemas differ/);
  });

  it('refuses two declarations it cannot compare (no JSON Schema)', () => {
    const opaque: StandardSchemaV1<unknown, string> = {
      '~standard': { version: 1, vendor: 'hand', validate: (v) => ({ value: String(v) }) },
    };
    const a = defineKey('courseId', opaque, { description: COURSE });
    const e = conflict([CoursePublished, courseEvent(a)]);
    assert.match(e.message, /their validators have no JSON Schema to compare/);
  });

  it('refuses a field named like a key of the registry with another shape: the courseId problem', () => {
    const e = conflict([CoursePublished, enrolled({ courseId: z.string() })]);
    assert.match(
      e.message,
      /field courseId of enrollment\.created v1 is named like the key courseId \(the key of course\.published v1\) but has another shape \(\/pattern: \(absent\) vs "\^C-\\\\d\{1,6\}\$", field vs key\)/,
    );
    assert.match(e.message, /`courseId: CourseId\.schema`/);
    const nested = conflict([CoursePublished, enrolled({ course: z.object({ courseId: z.int() }) })]);
    assert.match(nested.message, /field course\.courseId of enrollment\.created v1/);
    const listed = conflict([
      CoursePublished,
      enrolled({ lines: z.array(z.object({ courseId: z.uuid() })) }),
    ]);
    assert.match(listed.message, /field lines\[\]\.courseId/);
  });

  it('accepts fields that carry the key: required, optional, nullable, nested', () => {
    const fields = {
      courseId: courseSchema,
      previousCourseId: z.string(),
      course: z.object({ courseId: courseSchema.optional() }),
      waitlist: z.array(z.object({ courseId: courseSchema.nullable() })),
    };
    assert.equal(createRegistry([CoursePublished, enrolled(fields)]).all().length, 2);
  });

  it("checks fields against keys of the registry only, and leaves a contract's own key field to checkEvent", () => {
    // No contract is keyed by courseId: it is a field like any other.
    assert.equal(createRegistry([enrolled({ courseId: z.int() })]).all().length, 1);
    // The key field is validated against the key type at append and consume, whatever the data schema says.
    const loose = defineEvent({
      type: 'course.renamed',
      version: 1,
      key: CourseId,
      topic: courses,
      description: 'x',
      schema: z.object({ courseId: z.string(), title: z.string() }),
    });
    assert.equal(createRegistry([CoursePublished, loose]).all().length, 2);
    // ...but the same name at another depth is a field.
    const e = conflict([
      CoursePublished,
      defineEvent({
        type: 'course.merged',
        version: 1,
        key: CourseId,
        topic: courses,
        description: 'x',
        schema: z.object({ courseId: courseSchema, into: z.object({ courseId: z.string() }) }),
      }),
    ]);
    assert.match(e.message, /field into\.courseId of course\.merged v1/);
  });
});
