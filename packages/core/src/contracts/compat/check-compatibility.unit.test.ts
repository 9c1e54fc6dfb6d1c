import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { BREAKS_BACKWARD, BREAKS_FORWARD, checkCompatibility } from './check-compatibility.js';
import { ARRAY_AND_COMBINED_CASES } from './compat-array-cases.test-support.js';
import { SCALAR_AND_OBJECT_CASES } from './compat-cases.test-support.js';
import { diffSchemas } from './diff-schemas.js';
import type { JsonSchema } from './schema-change.js';
import { describeChange, isCompatibleChange, SCHEMA_CHANGE_RULES } from './schema-change-type.js';

const RULE_CASES = [...SCALAR_AND_OBJECT_CASES, ...ARRAY_AND_COMBINED_CASES];
const changes = (issues: readonly { change: string }[]) => [...new Set(issues.map((i) => i.change))].sort();

describe('the rule table (Confluent Schema Registry JSON Schema rules)', () => {
  it('has a case for every change type', () => {
    const covered = new Set(RULE_CASES.map((c) => c.rule));
    assert.deepEqual(
      Object.keys(SCHEMA_CHANGE_RULES).filter((r) => !covered.has(r as never)),
      [],
    );
  });

  for (const c of RULE_CASES) {
    const compatible = isCompatibleChange(c.rule);
    it(`${c.rule}: ${compatible ? 'accepted' : 'rejected'} under BACKWARD; FORWARD finds [${c.forward.join(', ')}]`, () => {
      assert.ok(
        diffSchemas(c.old, c.new).some((d) => d.change === c.rule && d.compatible === compatible),
        `diff finds ${c.rule}: ${JSON.stringify(diffSchemas(c.old, c.new))}`,
      );
      const backward = checkCompatibility([c.old], c.new, 'BACKWARD');
      if (compatible) assert.deepEqual(backward, [], `${c.rule} is compatible under BACKWARD`);
      else {
        const issue = backward.find((i) => i.change === c.rule);
        assert.ok(issue, `${c.rule} rejected under BACKWARD: ${JSON.stringify(backward)}`);
        assert.equal(issue.message, describeChange(c.rule, 'the old schema', 'the new schema'));
        assert.equal(issue.breaks, BREAKS_BACKWARD);
        assert.equal(issue.direction, 'BACKWARD');
      }
      const forward = checkCompatibility([c.old], c.new, 'FORWARD');
      assert.deepEqual(changes(forward), [...c.forward].sort(), JSON.stringify(forward));
      for (const i of forward) assert.equal(i.breaks, BREAKS_FORWARD);
      assert.deepEqual(
        changes(checkCompatibility([c.old], c.new, 'FULL')),
        changes([...backward, ...forward]),
      );
      assert.deepEqual(checkCompatibility([c.old], c.new, 'NONE'), []);
    });
  }
});

const zodSchema = (s: z.ZodType): JsonSchema =>
  s['~standard'].jsonSchema.input({ target: 'draft-2020-12' }) as JsonSchema;

describe('checkCompatibility with the schemas zod writes (closed objects by default)', () => {
  it("an object without additionalProperties is closed by default, open with defaultContentModel: 'open'", () => {
    const a = zodSchema(z.object({ id: z.string() }));
    const b = zodSchema(z.object({ id: z.string(), note: z.string().optional() }));
    assert.equal('additionalProperties' in (a as object), false);
    assert.deepEqual(checkCompatibility([a], b, 'BACKWARD'), []);
    assert.deepEqual(changes(checkCompatibility([a], b, 'BACKWARD', { defaultContentModel: 'open' })), [
      'OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL',
    ]);
  });

  const v1 = zodSchema(
    z.object({ id: z.string(), address: z.object({ zip: z.string(), city: z.string() }) }),
  );

  it('adding an optional field is compatible under BACKWARD, not under FORWARD (closed content model)', () => {
    const v2 = zodSchema(
      z.object({
        id: z.string(),
        note: z.string().optional(),
        address: z.object({ zip: z.string(), city: z.string() }),
      }),
    );
    assert.deepEqual(checkCompatibility([v1], v2, 'BACKWARD'), []);
    const [issue] = checkCompatibility([v1], v2, 'FORWARD');
    assert.equal(issue?.path, '#/properties/note');
    assert.equal(issue?.change, 'PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL');
    assert.equal(issue?.breaks, 'old consumers reading new events');
  });

  it('removing a nested field names its path', () => {
    const v2 = zodSchema(z.object({ id: z.string(), address: z.object({ city: z.string() }) }));
    const [issue] = checkCompatibility([v1], v2, 'BACKWARD');
    assert.deepEqual(issue, {
      direction: 'BACKWARD',
      against: 0,
      path: '#/properties/address/properties/zip',
      change: 'PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL',
      message:
        'the new schema is a closed object without a property that the old schema has: it rejects events carrying it',
      breaks: 'consumers of the new version reading old events',
    });
  });

  it('nullable and integer to number are compatible under BACKWARD', () => {
    const a = zodSchema(z.object({ n: z.int(), s: z.string() }));
    const b = zodSchema(z.object({ n: z.number(), s: z.string().nullable() }));
    assert.deepEqual(checkCompatibility([a], b, 'BACKWARD'), []);
    // z.int() also bounds the integer to the safe range, which an old reader adds to a plain number.
    assert.deepEqual(changes(checkCompatibility([a], b, 'FORWARD')), [
      'MAXIMUM_ADDED',
      'MINIMUM_ADDED',
      'TYPE_CHANGED',
      'TYPE_NARROWED',
    ]);
  });

  it('transitive modes check every earlier schema, the others only the latest', () => {
    const s1 = { type: 'string', maxLength: 5 };
    const s2 = { type: 'string', maxLength: 10 };
    const s3 = { type: 'string', maxLength: 8 };
    assert.deepEqual(checkCompatibility([s1, s2], s3, 'FORWARD').length, 0);
    const issues = checkCompatibility([s1, s2], s3, 'FORWARD_TRANSITIVE');
    assert.deepEqual(
      issues.map((i) => [i.against, i.change]),
      [[0, 'MAX_LENGTH_DECREASED']],
    );
    assert.equal(checkCompatibility([s1, s2], s3, 'BACKWARD').length, 1);
    assert.equal(checkCompatibility([s1, s2], s3, 'BACKWARD_TRANSITIVE').length, 1);
    assert.equal(checkCompatibility([s1, s2], s3, 'FULL_TRANSITIVE').length, 2);
  });

  it('follows $ref into $defs, recursive ones included', () => {
    const tree = (leaf: JsonSchema) => ({
      $defs: {
        node: {
          type: 'object',
          properties: { v: leaf, kids: { type: 'array', items: { $ref: '#/$defs/node' } } },
          additionalProperties: false,
        },
      },
      $ref: '#/$defs/node',
    });
    const issues = checkCompatibility(
      [tree({ type: 'string' })],
      tree({ type: 'string', maxLength: 3 }),
      'BACKWARD',
    );
    assert.deepEqual(
      issues.map((i) => [i.path, i.change]),
      [['#/properties/v/maxLength', 'MAX_LENGTH_ADDED']],
    );
  });
});
