import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { z } from 'zod';
import { ContractRegistryError, ContractViolationError, InvalidOptionError, SluiceError } from '../errors.js';
import { createRegistry } from './contract-registry.js';
import { checkEvent, defineEvent } from './define-event.js';
import { defineKey } from './define-key.js';
import { defineTopic } from './define-topic.js';
import { toJsonSchema } from './json-schema.js';

const STUDENT = '0190a3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d';

const StudentId = defineKey('studentId', z.uuid(), {
  description: 'A student, as the registry identifies them',
});
const students = defineTopic({ name: 'students', kind: 'event', partitions: 4 });

const StudentRegistered = defineEvent({
  type: 'student.registered',
  version: 1,
  key: StudentId,
  // The event schema accepts any string for the key field: the key type is what requires a uuid.
  schema: z.object({
    studentId: z.string(),
    name: z.string().min(1),
    address: z.object({ city: z.string(), zip: z.string() }),
    credits: z.number().int().default(0),
  }),
  topic: students,
  description: 'A student registered',
});

/** Runs `fn`, asserts it throws an instance of `type`, and returns the error for further checks. */
function thrown<E extends Error>(fn: () => unknown, type: new (...args: never[]) => E): E {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    return error;
  }
  assert.fail(`expected ${type.name} to be thrown`);
}

/** A hand-written Standard Schema validator (no JSON Schema support). */
function handWritten<T>(check: (v: unknown) => v is T, message: string): StandardSchemaV1<unknown, T> {
  return {
    '~standard': {
      version: 1,
      vendor: 'handwritten',
      validate: (value) => (check(value) ? { value } : { issues: [{ message }] }),
    },
  };
}

describe('defineKey', () => {
  it('returns a frozen key type', () => {
    assert.equal(StudentId.kind, 'sluice.key');
    assert.equal(StudentId.name, 'studentId');
    assert.ok(Object.isFrozen(StudentId));
  });

  it('rejects a name that is not camelCase, naming the field', () => {
    for (const name of ['StudentId', 'student-id', 'student_id', '1student', '']) {
      const e = thrown(() => defineKey(name, z.string(), { description: 'x' }), InvalidOptionError);
      assert.equal(e.code, 'SLUICE_INVALID_OPTION');
      assert.match(e.message, /^defineKey: option `name` /);
      assert.ok(e.message.includes(JSON.stringify(name)), e.message);
    }
  });

  it('rejects a schema that is not a Standard Schema validator', () => {
    const e = thrown(
      () =>
        defineKey('studentId', { parse: () => 1 } as unknown as StandardSchemaV1<unknown, string>, {
          description: 'x',
        }),
      InvalidOptionError,
    );
    assert.match(e.message, /option `schema` must be a Standard Schema validator/);
  });

  it('requires a description', () => {
    const e = thrown(() => defineKey('studentId', z.string(), { description: '   ' }), InvalidOptionError);
    assert.match(e.message, /option `description` is required/);
  });

  it('rejects a description that is not a string with InvalidOptionError, not a TypeError', () => {
    const options = { description: 42 } as unknown as { description: string };
    const e = thrown(() => defineKey('studentId', z.string(), options), InvalidOptionError);
    assert.match(e.message, /option `description`/);
  });
});

describe('defineTopic', () => {
  it('applies defaults: 8 partitions, 24 h retention for message topics only', () => {
    const m = defineTopic({ name: 'notifications', kind: 'message' });
    assert.deepEqual(m, { name: 'notifications', kind: 'message', partitions: 8, retentionMs: 86_400_000 });
    const e = defineTopic({ name: 'orders.v1', kind: 'event' });
    assert.deepEqual(e, { name: 'orders.v1', kind: 'event', partitions: 8 });
    assert.ok(Object.isFrozen(e));
  });

  const cases: Array<[string, Parameters<typeof defineTopic>[0], string]> = [
    ['name', { name: 'bad name', kind: 'event' }, 'name'],
    ['name (leading dot)', { name: '.hidden', kind: 'event' }, 'name'],
    ['name (too long)', { name: 'a'.repeat(201), kind: 'event' }, 'name'],
    ['kind', { name: 't', kind: 'log' as never }, 'kind'],
    ['partitions 0', { name: 't', kind: 'event', partitions: 0 }, 'partitions'],
    ['partitions 1.5', { name: 't', kind: 'event', partitions: 1.5 }, 'partitions'],
    ['partitions 4097', { name: 't', kind: 'event', partitions: 4097 }, 'partitions'],
    ['retention on an event topic', { name: 't', kind: 'event', retentionMs: 1000 }, 'retentionMs'],
    ['retention on an entity topic', { name: 't', kind: 'entity', retentionMs: 1000 }, 'retentionMs'],
    ['negative retention', { name: 't', kind: 'message', retentionMs: -1 }, 'retentionMs'],
    [
      'infinite retention',
      { name: 't', kind: 'message', retentionMs: Number.POSITIVE_INFINITY },
      'retentionMs',
    ],
  ];
  for (const [label, options, field] of cases) {
    it(`rejects ${label}, naming \`${field}\``, () => {
      const e = thrown(() => defineTopic(options), InvalidOptionError);
      assert.equal(e.code, 'SLUICE_INVALID_OPTION');
      assert.ok(e.message.startsWith(`defineTopic: option \`${field}\` `), e.message);
    });
  }
});

describe('defineEvent', () => {
  const valid = {
    type: 'student.registered',
    version: 1,
    key: StudentId,
    schema: z.object({ studentId: z.string() }),
    topic: students,
    description: 'A student registered',
  };

  it('defaults keyField to the key name and dataschema to a versioned urn', () => {
    const c = defineEvent(valid);
    assert.equal(c.kind, 'sluice.event');
    assert.equal(c.keyField, 'studentId');
    assert.equal(c.dataschema, 'urn:sluice:contract:student.registered:v1');
    assert.ok(Object.isFrozen(c));
    const custom = defineEvent({ ...valid, keyField: 'who', dataschema: 'https://schemas.example/s/1' });
    assert.equal(custom.keyField, 'who');
    assert.equal(custom.dataschema, 'https://schemas.example/s/1');
  });

  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['a type without dots', { type: 'registered' }, 'type'],
    ['an upper-case type', { type: 'Student.Registered' }, 'type'],
    ['version 0', { version: 0 }, 'version'],
    ['a fractional version', { version: 1.5 }, 'version'],
    ['a key that is not from defineKey', { key: { name: 'studentId' } }, 'key'],
    ['a schema that is not a Standard Schema', { schema: { parse: () => ({}) } }, 'schema'],
    ['a missing topic', { topic: undefined }, 'topic'],
    ['an empty description', { description: ' ' }, 'description'],
    // A JavaScript caller (or a config file) can pass a non-string; it must still name the field.
    ['a description that is not a string', { description: 42 }, 'description'],
  ];
  for (const [label, override, field] of cases) {
    it(`rejects ${label}, naming \`${field}\``, () => {
      const options = { ...valid, ...override } as unknown as Parameters<typeof defineEvent>[0];
      const e = thrown(() => defineEvent(options), InvalidOptionError);
      assert.equal(e.code, 'SLUICE_INVALID_OPTION');
      assert.ok(e.message.includes(`option \`${field}\``), e.message);
      assert.ok(e.message.startsWith('defineEvent('), e.message);
    });
  }
});

describe('checkEvent', () => {
  const good = { studentId: STUDENT, name: 'Ada', address: { city: 'Paris', zip: '75001' } };

  it('returns the parsed data (with schema defaults) and the key', () => {
    const r = checkEvent(StudentRegistered, good, 'append');
    assert.equal(r.key, STUDENT);
    assert.deepEqual(r.data, { ...good, credits: 0 });
  });

  it('throws ContractViolationError naming type, version, nested path, expected and received', () => {
    const bad = { studentId: STUDENT, name: 'Ada', address: { city: 42, zip: '75001' } };
    const e = thrown(() => checkEvent(StudentRegistered, bad, 'append'), ContractViolationError);
    assert.equal(e.code, 'SLUICE_CONTRACT_VIOLATION');
    assert.equal(e.retryable, false);
    assert.equal(e.eventType, 'student.registered');
    assert.equal(e.version, 1);
    assert.equal(e.issues.length, 1);
    const issue = e.issues[0]!;
    assert.equal(issue.path, 'address.city');
    assert.equal(issue.expected, 'string');
    assert.equal(issue.received, 'number 42');
    assert.match(e.message, /^event student\.registered v1 violates its contract:/);
    assert.ok(e.message.includes('at address.city: expected string, received number 42'), e.message);
    assert.match(e.message, /Nothing was written/);
  });

  it('reports every issue, a missing field as missing, and a consume-time violation as dead-lettered', () => {
    const e = thrown(
      () =>
        checkEvent(
          StudentRegistered,
          { studentId: STUDENT, name: '', address: { city: 'Paris' } },
          'consume',
        ),
      ContractViolationError,
    );
    const byPath = new Map(e.issues.map((i) => [i.path, i]));
    assert.deepEqual([...byPath.keys()].sort(), ['address.zip', 'name']);
    assert.equal(byPath.get('address.zip')!.received, 'nothing (field missing)');
    assert.equal(byPath.get('name')!.received, 'string ""');
    assert.match(e.message, /dead-letter topic/);
  });

  it('reports a non-object payload at (root)', () => {
    const e = thrown(() => checkEvent(StudentRegistered, 'hello', 'append'), ContractViolationError);
    assert.equal(e.issues[0]!.path, '(root)');
    assert.equal(e.issues[0]!.received, 'string "hello"');
  });

  it('checks the key field against the key type schema, at that field', () => {
    // The event schema accepts any string for studentId; the key type requires a uuid.
    const e = thrown(
      () => checkEvent(StudentRegistered, { ...good, studentId: 'not-a-uuid' }, 'append'),
      ContractViolationError,
    );
    assert.equal(e.eventType, 'student.registered');
    assert.equal(e.issues.length, 1);
    assert.equal(e.issues[0]!.path, 'studentId');
    assert.equal(e.issues[0]!.received, 'string "not-a-uuid"');
    assert.ok(e.message.includes('at studentId:'), e.message);
    assert.match(e.message, /UUID/i);
  });

  it('reports a missing key field at that field', () => {
    const KeyOptional = defineEvent({
      type: 'student.noted',
      version: 2,
      key: StudentId,
      schema: z.object({ studentId: z.string().optional(), note: z.string() }),
      topic: students,
      description: 'A note',
    });
    const e = thrown(() => checkEvent(KeyOptional, { note: 'x' }, 'append'), ContractViolationError);
    assert.equal(e.version, 2);
    assert.equal(e.issues[0]!.path, 'studentId');
    assert.equal(e.issues[0]!.received, 'nothing (field missing)');
  });

  it('uses a custom keyField and stringifies numeric keys', () => {
    const Seat = defineKey('seatNo', z.number().int().positive(), { description: 'A seat number' });
    const SeatTaken = defineEvent({
      type: 'seat.taken',
      version: 1,
      key: Seat,
      keyField: 'seat',
      schema: z.object({ seat: z.number() }),
      topic: students,
      description: 'A seat was taken',
    });
    assert.deepEqual(checkEvent(SeatTaken, { seat: 12 }, 'append'), { data: { seat: 12 }, key: '12' });
    const e = thrown(() => checkEvent(SeatTaken, { seat: -3 }, 'append'), ContractViolationError);
    assert.equal(e.issues[0]!.path, 'seat');
    assert.equal(e.issues[0]!.received, 'number -3');
  });

  it('refuses an async event schema with SLUICE_ASYNC_SCHEMA', () => {
    const Async = defineEvent({
      type: 'student.checked',
      version: 1,
      key: StudentId,
      schema: z.object({ studentId: z.string() }).refine(async () => true),
      topic: students,
      description: 'Checked asynchronously',
    });
    const e = thrown(() => checkEvent(Async, { studentId: STUDENT }, 'append'), SluiceError);
    assert.equal(e.code, 'SLUICE_ASYNC_SCHEMA');
    assert.match(e.message, /student\.checked v1 validates asynchronously/);
  });

  it('refuses an async key type schema with SLUICE_ASYNC_SCHEMA', () => {
    const AsyncKey = defineKey(
      'studentId',
      z.string().refine(async () => true),
      { description: 'checked asynchronously' },
    );
    const C = defineEvent({
      type: 'student.checked',
      version: 3,
      key: AsyncKey,
      schema: z.object({ studentId: z.string() }),
      topic: students,
      description: 'Checked asynchronously',
    });
    const e = thrown(() => checkEvent(C, { studentId: STUDENT }, 'append'), SluiceError);
    assert.equal(e.code, 'SLUICE_ASYNC_SCHEMA');
  });
});

describe('createRegistry', () => {
  const V2 = defineEvent({
    type: 'student.registered',
    version: 2,
    key: StudentId,
    schema: z.object({ studentId: z.string(), fullName: z.string() }),
    topic: students,
    description: 'A student registered (v2)',
  });
  const Left = defineEvent({
    type: 'student.left',
    version: 1,
    key: StudentId,
    schema: z.object({ studentId: z.string() }),
    topic: defineTopic({ name: 'students', kind: 'event', partitions: 4 }), // same settings, other object
    description: 'A student left',
  });

  it('looks contracts up by type and version, by dataschema, and lists versions lowest first', () => {
    const r = createRegistry([V2, Left, StudentRegistered, StudentRegistered]);
    assert.equal(r.get('student.registered', 1), StudentRegistered);
    assert.equal(r.get('student.registered', 2), V2);
    assert.equal(r.get('student.registered', 3), undefined);
    assert.equal(r.get('student.unknown', 1), undefined);
    assert.equal(r.byDataschema('urn:sluice:contract:student.registered:v2'), V2);
    assert.equal(r.byDataschema('urn:nothing'), undefined);
    assert.deepEqual(r.versionsOf('student.registered'), [StudentRegistered, V2]);
    assert.deepEqual(r.versionsOf('student.unknown'), []);
    assert.equal(r.all().length, 3);
    assert.deepEqual(
      r.topics().map((t) => t.name),
      ['students'],
    );
  });

  it('refuses two different contracts with one type and version', () => {
    const copy = defineEvent({
      type: 'student.registered',
      version: 1,
      key: StudentId,
      schema: z.object({ studentId: z.string() }),
      topic: students,
      description: 'A duplicate',
    });
    const e = thrown(() => createRegistry([StudentRegistered, copy]), ContractRegistryError);
    assert.equal(e.code, 'SLUICE_DUPLICATE_CONTRACT');
    assert.match(e.message, /student\.registered v1 is defined twice/);
  });

  it('refuses one topic name declared with different settings', () => {
    for (const topic of [
      defineTopic({ name: 'students', kind: 'event', partitions: 8 }),
      defineTopic({ name: 'students', kind: 'entity', partitions: 4 }),
    ]) {
      const other = defineEvent({
        type: 'student.moved',
        version: 1,
        key: StudentId,
        schema: z.object({ studentId: z.string() }),
        topic,
        description: 'A student moved',
      });
      const e = thrown(() => createRegistry([StudentRegistered, other]), ContractRegistryError);
      assert.equal(e.code, 'SLUICE_TOPIC_CONFLICT');
      assert.match(
        e.message,
        /topic students is declared twice with different settings \(by student\.moved v1\)/,
      );
    }
    const a = defineTopic({ name: 'pings', kind: 'message', retentionMs: 1000 });
    const b = defineTopic({ name: 'pings', kind: 'message', retentionMs: 2000 });
    const mk = (type: string, topic: typeof a) =>
      defineEvent({
        type,
        version: 1,
        key: StudentId,
        schema: z.object({ studentId: z.string() }),
        topic,
        description: 'x',
      });
    const e = thrown(() => createRegistry([mk('ping.a', a), mk('ping.b', b)]), ContractRegistryError);
    assert.equal(e.code, 'SLUICE_TOPIC_CONFLICT');
  });

  it('refuses two contracts that share one dataschema (byDataschema would silently pick the last)', () => {
    const mk = (type: string) =>
      defineEvent({
        type,
        version: 1,
        key: StudentId,
        schema: z.object({ studentId: z.string() }),
        topic: students,
        description: 'x',
        dataschema: 'https://schemas.example/student/1',
      });
    const first = mk('student.enrolled');
    const second = mk('student.graduated');
    let registry: ReturnType<typeof createRegistry> | undefined;
    const error = (() => {
      try {
        registry = createRegistry([first, second]);
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    assert.ok(
      error instanceof ContractRegistryError,
      `expected ContractRegistryError; instead byDataschema() returns ${registry?.byDataschema('https://schemas.example/student/1')?.type} for both contracts`,
    );
    assert.match(error.message, /https:\/\/schemas\.example\/student\/1/);
  });
});

describe('toJsonSchema', () => {
  it('exports a zod 4 schema as JSON Schema with $id = dataschema and x-sluice metadata', () => {
    const s = toJsonSchema(StudentRegistered);
    assert.equal(s['$id'], 'urn:sluice:contract:student.registered:v1');
    assert.equal(s['$schema'], 'https://json-schema.org/draft/2020-12/schema');
    assert.equal(s['title'], 'student.registered v1');
    assert.equal(s['description'], 'A student registered');
    assert.equal(s['type'], 'object');
    const properties = s['properties'] as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(properties).sort(), ['address', 'credits', 'name', 'studentId']);
    assert.equal(properties['studentId']!['type'], 'string');
    assert.deepEqual((properties['address']!['properties'] as Record<string, unknown>)['city'], {
      type: 'string',
    });
    // The input schema: `credits` has a default, so producers may omit it.
    assert.deepEqual(s['required'], ['studentId', 'name', 'address']);
    assert.deepEqual(s['x-sluice'], {
      type: 'student.registered',
      version: 1,
      key: {
        name: 'studentId',
        field: 'studentId',
        description: 'A student, as the registry identifies them',
      },
      topic: { name: 'students', kind: 'event', partitions: 4 },
    });
    assert.doesNotThrow(() => JSON.parse(JSON.stringify(s)));
  });

  it('fails with SLUICE_NO_JSON_SCHEMA for a hand-written Standard Schema validator', () => {
    const C = defineEvent({
      type: 'student.waved',
      version: 1,
      key: StudentId,
      schema: handWritten(
        (v): v is { studentId: string } => typeof v === 'object' && v !== null && 'studentId' in v,
        'needs a studentId',
      ),
      topic: students,
      description: 'Hand-written schema',
    });
    // It still validates events...
    assert.equal(checkEvent(C, { studentId: STUDENT }, 'append').key, STUDENT);
    assert.equal(thrown(() => checkEvent(C, {}, 'append'), ContractViolationError).issues[0]!.path, '(root)');
    // ...but cannot be exported.
    const e = thrown(() => toJsonSchema(C), SluiceError);
    assert.equal(e.code, 'SLUICE_NO_JSON_SCHEMA');
    assert.ok(e.message.includes('student.waved v1'), e.message);
    assert.ok(e.message.includes('(handwritten)'), e.message);
    assert.match(e.message, /Standard JSON Schema/);
  });

  it('wraps a validator that cannot express its schema in a SluiceError naming the contract', () => {
    const C = defineEvent({
      type: 'student.born',
      version: 1,
      key: StudentId,
      schema: z.object({ studentId: z.string(), at: z.date() }),
      topic: students,
      description: 'Has a Date field',
    });
    let error: unknown;
    try {
      toJsonSchema(C);
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof SluiceError, `expected a SluiceError, got ${String(error)}`);
    assert.equal(error.code, 'SLUICE_NO_JSON_SCHEMA');
    assert.ok(error.message.includes('student.born v1'), error.message);
    assert.ok(error.cause instanceof Error);
  });
});
