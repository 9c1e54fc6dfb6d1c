import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { checkEvent, defineEvent, type EventContract } from '../define-event.js';
import { defineKey } from '../define-key.js';
import { defineTopic } from '../define-topic.js';
import { lockContract } from '../lock/build-lock.js';
import { exampleOf } from './example-value.js';
import { regexExample } from './regex-example.js';

interface Tree {
  name: string;
  children: Tree[];
}
const TreeNode: z.ZodType<Tree> = z.lazy(() => z.object({ name: z.string(), children: z.array(TreeNode) }));
const OrderId = defineKey('orderId', z.string().regex(/^O-[A-Z]{2}\d{4,6}$/), { description: 'An order' });
const topic = defineTopic({ name: 'orders', kind: 'event', partitions: 2 });
const contract = (name: string, shape: z.ZodRawShape): EventContract =>
  defineEvent({
    type: `order.${name}`,
    version: 1,
    key: OrderId,
    topic,
    description: name,
    schema: z.object({ orderId: OrderId.schema, ...shape }),
  });

/** Each schema shape the generator must produce a valid example for (checked by the contract itself). */
const CASES: [string, z.ZodRawShape][] = [
  ['formats', { id: z.uuid(), at: z.iso.datetime(), day: z.iso.date(), mail: z.email(), site: z.url() }],
  ['patterns', { sku: z.string().regex(/^(?:SKU|ART)-[a-f0-9]{3}(_x)?$/), zip: z.string().regex(/^\d{5}$/) }],
  ['lengths', { code: z.string().min(3).max(3), note: z.string().max(2), long: z.string().min(12) }],
  [
    'numbers',
    {
      n: z.int().min(5).max(9),
      p: z.number().gt(0.5),
      m: z.int().multipleOf(7).min(8),
      neg: z.int().max(-3),
    },
  ],
  ['enums', { status: z.enum(['open', 'closed']), fixed: z.literal('v'), flag: z.boolean() }],
  ['optional', { maybe: z.string().optional(), nul: z.string().nullable(), dflt: z.int().default(4) }],
  ['nested', { address: z.object({ street: z.string(), zip: z.string().regex(/^\d{4}$/) }) }],
  [
    'arrays',
    { lines: z.array(z.object({ sku: z.string(), qty: z.int().min(1) })).min(2), tags: z.array(z.string()) },
  ],
  [
    'unions',
    {
      pay: z.union([z.object({ card: z.string() }), z.object({ iban: z.string() })]),
      v: z.union([z.int(), z.string()]),
    },
  ],
  ['tuples', { pair: z.tuple([z.string(), z.int()]) }],
  ['records', { attrs: z.record(z.string(), z.int()) }],
  [
    'discriminated',
    {
      d: z.discriminatedUnion('k', [
        z.object({ k: z.literal('a'), a: z.string() }),
        z.object({ k: z.literal('b') }),
      ]),
    },
  ],
  ['recursive', { root: TreeNode }],
];

describe('exampleOf', () => {
  for (const [name, shape] of CASES) {
    it(`gives data the contract accepts: ${name}`, () => {
      const c = contract(name, shape);
      const example = exampleOf(lockContract(c).schema);
      const { key } = checkEvent(c, example, 'append');
      assert.match(key, /^O-[A-Z]{2}\d{4,6}$/);
    });
  }

  it('is deterministic and fills optional fields so the example shows them', () => {
    const schema = lockContract(contract('optional', CASES[5]![1])).schema;
    assert.deepEqual(exampleOf(schema), exampleOf(schema));
    assert.deepEqual(Object.keys(exampleOf(schema) as object).sort(), ['dflt', 'maybe', 'nul', 'orderId']);
  });

  it('follows $defs references and stops on recursive schemas', () => {
    const schema = {
      type: 'object',
      required: ['root'],
      properties: { root: { $ref: '#/$defs/node' } },
      $defs: {
        node: {
          type: 'object',
          required: ['name'],
          properties: {
            name: { type: 'string' },
            children: { type: 'array', items: { $ref: '#/$defs/node' } },
          },
        },
      },
    };
    const example = exampleOf(schema) as { root: { name: string } };
    assert.equal(example.root.name, 'name');
    assert.ok(JSON.stringify(example).length < 2000);
  });

  it('an example of one contract is refused by another (the check above can fail)', () => {
    const example = exampleOf(lockContract(contract('numbers', CASES[3]![1])).schema);
    assert.throws(() => checkEvent(contract('enums', CASES[4]![1]), example, 'append'), {
      code: 'SLUICE_CONTRACT_VIOLATION',
    });
  });
});

describe('regexExample', () => {
  const patterns = [
    '^C-\\d{1,6}$',
    '^[A-Z][a-z]+ [A-Z]\\.$',
    '^(?:ab|cd)+-(?<n>[0-9]{2})$',
    '^[^@\\s]+@[^@\\s]+$',
    'x*y?z',
    '^\\w+\\.\\w+$',
  ];
  for (const p of patterns) {
    it(`matches ${p}`, () => {
      const s = regexExample(p);
      assert.ok(s !== undefined && new RegExp(p).test(s), `${JSON.stringify(s)} for ${p}`);
    });
  }

  it('says undefined for what it cannot generate (lookaround, backreferences)', () => {
    assert.equal(regexExample('^(?=a)a$'), undefined);
    assert.equal(regexExample('^(a)\\1$'), undefined);
  });
});
