import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { ContractRegistryError } from '../errors.js';
import { createRegistry } from './contract-registry.js';
import { defineEvent } from './define-event.js';
import { defineKey } from './define-key.js';
import { defineTopic } from './define-topic.js';

const CourseId = defineKey('courseId', z.string(), { description: 'a course' });
const StudentId = defineKey('studentId', z.string(), { description: 'a student' });
const state = defineTopic({ name: 'state', kind: 'entity', partitions: 2 });
const history = defineTopic({ name: 'history', kind: 'event', partitions: 2 });

const event = (type: string, key: typeof CourseId | typeof StudentId, topic = state) =>
  defineEvent({
    type,
    version: 1,
    key,
    topic,
    description: type,
    schema: z.object({ [key.name]: z.string() }),
  });

describe('entity topics hold one key type', () => {
  it('a registry refuses two key types on one entity topic, naming the topic, contracts and keys', () => {
    assert.throws(
      () => createRegistry([event('course.listing', CourseId), event('student.profile', StudentId)]),
      (e: unknown) =>
        e instanceof ContractRegistryError &&
        e.code === 'SLUICE_ENTITY_TOPIC_KEYS' &&
        /entity topic state .*course\.listing v1 is keyed by courseId, student\.profile v1 by studentId/.test(
          e.message,
        ),
    );
  });

  it('accepts one key type per entity topic, and any keys on an event topic', () => {
    createRegistry([event('course.listing', CourseId), event('course.retired', CourseId)]);
    createRegistry([event('course.done', CourseId, history), event('student.done', StudentId, history)]);
  });
});
