import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { standardJsonSchema } from '../json-schema.js';
import { schemaFields } from './schema-fields.js';

describe('schemaFields', () => {
  it('lists every field with its path, type, required flag and constraints, nested and in arrays', () => {
    const schema = standardJsonSchema(
      z.object({
        id: z.uuid(),
        code: z.string().regex(/^C-\d+$/),
        progress: z.int().min(0).max(100),
        status: z.enum(['open', 'closed']),
        note: z.string().max(200).optional(),
        address: z.object({ street: z.string().min(1), zip: z.string().nullable() }),
        lines: z.array(z.object({ sku: z.string() })).min(1),
      }),
      'test',
    );
    const byPath = new Map(schemaFields(schema).map((f) => [f.path, f]));
    assert.deepEqual(
      [...byPath.keys()],
      [
        'id',
        'code',
        'progress',
        'status',
        'note',
        'address',
        'address.street',
        'address.zip',
        'lines',
        'lines[]',
        'lines[].sku',
      ],
    );
    assert.deepEqual(byPath.get('id')!.constraints, ['format uuid']);
    assert.deepEqual(byPath.get('code')!.constraints, ['pattern ^C-\\d+$']);
    assert.deepEqual(byPath.get('progress')!.constraints, ['0 ≤ value ≤ 100']);
    assert.deepEqual(byPath.get('status')!.constraints, ['one of "open", "closed"']);
    assert.equal(byPath.get('note')!.required, false);
    assert.equal(byPath.get('id')!.required, true);
    assert.equal(byPath.get('address.zip')!.type, 'string | null');
    assert.deepEqual(byPath.get('lines')!.constraints, ['items ≥ 1']);
  });

  it('follows $defs references, and shows a recursive reference without expanding it again', () => {
    const fields = schemaFields({
      type: 'object',
      properties: { root: { $ref: '#/$defs/node' } },
      $defs: {
        node: { type: 'object', properties: { name: { type: 'string' }, child: { $ref: '#/$defs/node' } } },
      },
    });
    assert.deepEqual(
      fields.map((f) => f.path),
      ['root', 'root.name', 'root.child'],
    );
  });
});
