import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Parser } from '@asyncapi/parser';
import { defineEvent, defineKey, defineTopic, messageId, toAsyncApi } from '@sluice/core';
import { z } from 'zod';
import { loadContracts } from '../../context.js';
import { EXAMPLES, sluiceInProcess, tempDir } from './examples.test-support.js';

type Doc = {
  asyncapi: string;
  servers?: Record<string, { protocol: string; host: string }>;
  channels: Record<string, { address: string; messages: Record<string, unknown> }>;
  operations: Record<string, { action: string; messages: unknown[] }>;
  components: { messages: Record<string, unknown>; schemas: Record<string, unknown> };
};

/** The parser's diagnostics of severity error (0), as `code path: message` lines. */
async function errorsOf(doc: unknown): Promise<string[]> {
  const diagnostics = await new Parser().validate(JSON.stringify(doc));
  return diagnostics
    .filter((d) => d.severity === 0)
    .map((d) => `${d.code} ${d.path.join('/')}: ${d.message}`);
}

describe('sluice contracts asyncapi', () => {
  for (const [name, example] of Object.entries(EXAMPLES)) {
    it(`${name}: the official parser finds no errors; a channel per topic, a message per version, servers`, async () => {
      const out = join(tempDir('asyncapi'), 'asyncapi.json');
      const code = await sluiceInProcess([
        'contracts',
        'asyncapi',
        '--contracts',
        example.contracts,
        '--config',
        example.config,
        '--out',
        out,
        '--title',
        name,
      ]);
      assert.equal(code, 0);
      const doc = JSON.parse(readFileSync(out, 'utf8')) as Doc;
      assert.deepEqual(await errorsOf(doc), []);

      const contracts = await loadContracts(example.contracts);
      const topics = [...new Set(contracts.map((c) => c.topic.name))].sort();
      assert.equal(doc.asyncapi, '3.0.0');
      assert.deepEqual(Object.keys(doc.channels), topics);
      for (const t of topics) {
        const ids = contracts
          .filter((c) => c.topic.name === t)
          .map(messageId)
          .sort();
        assert.equal(doc.channels[t]!.address, t);
        assert.deepEqual(Object.keys(doc.channels[t]!.messages).sort(), ids);
        assert.equal(doc.operations[`send-${t}`]!.action, 'send');
        assert.equal(doc.operations[`send-${t}`]!.messages.length, ids.length);
      }
      assert.deepEqual(Object.keys(doc.components.messages).sort(), contracts.map(messageId).sort());
      // Both examples' configs declare one bus, an embedded log unless SLUICE_BUS says otherwise.
      assert.deepEqual(Object.keys(doc.servers ?? {}), ['bus']);
    });
  }

  it('the validation above catches a broken document (a topic with 0 partitions)', async () => {
    const out = join(tempDir('asyncapi'), 'asyncapi.json');
    assert.equal(
      await sluiceInProcess([
        'contracts',
        'asyncapi',
        '--contracts',
        EXAMPLES.enrollments.contracts,
        '--out',
        out,
      ]),
      0,
    );
    const doc = JSON.parse(readFileSync(out, 'utf8')) as {
      servers?: unknown;
      channels: { enrollments: { bindings: { kafka: { partitions: number } } } };
    };
    assert.equal(doc.servers, undefined, 'no --config: no servers');
    doc.channels.enrollments.bindings.kafka.partitions = 0;
    const errors = await errorsOf(doc);
    assert.ok(
      errors.some((e) => e.includes('partitions')),
      errors.join('\n'),
    );
  });

  it('schemas with $defs (recursion), tuples, records and unions, and a numeric key, validate too', async () => {
    const NodeId = defineKey('nodeId', z.int().min(1), { description: 'a node' });
    const Tree: z.ZodType<{ name: string; children: unknown[] }> = z.lazy(() =>
      z.object({ name: z.string(), children: z.array(Tree) }),
    );
    const contract = defineEvent({
      type: 'tree.changed',
      version: 1,
      key: NodeId,
      topic: defineTopic({ name: 'tree', kind: 'entity', partitions: 2 }),
      description: 'a tree changed',
      schema: z.object({
        nodeId: NodeId.schema,
        root: Tree,
        pair: z.tuple([z.string(), z.int()]),
        attrs: z.record(z.string(), z.int()),
        either: z.union([z.string(), z.null()]),
      }),
    });
    const doc = toAsyncApi([contract], { title: 'tree', version: '1' }) as unknown as Doc;
    assert.equal(
      (doc.components.schemas['tree.changed.v1'] as { properties: { root: { $ref: string } } }).properties
        .root.$ref,
      '#/components/schemas/tree.changed.v1/$defs/__schema0',
    );
    assert.deepEqual(await errorsOf(doc), []);
  });

  it('refuses to run without --contracts (exit 2)', async () => {
    assert.equal(await sluiceInProcess(['contracts', 'asyncapi']), 2);
  });
});
