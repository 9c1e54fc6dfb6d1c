import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { TopicSpec } from '../contracts/define-topic.js';
import { SluiceError } from '../errors.js';
import { createMemoryTransport } from './memory/memory-transport.js';
import { TOPIC_NAME_RULE, validateTopicSpec } from './validate-topic-spec.js';

const spec = (over: Partial<Record<keyof TopicSpec, unknown>>) =>
  ({ name: 'orders.v1', kind: 'event', partitions: 4, ...over }) as TopicSpec;

function refuses(s: TopicSpec, field: string, text: RegExp) {
  assert.throws(
    () => validateTopicSpec(s),
    (error: unknown) =>
      error instanceof SluiceError &&
      error.code === 'SLUICE_INVALID_OPTION' &&
      error.message.includes(`\`${field}\``) &&
      text.test(error.message),
  );
}

describe('validateTopicSpec', () => {
  it('accepts names every transport takes', () => {
    for (const name of ['a', 'orders', 'orders.v1', 'course_enrollments-2', '9lives', 'x'.repeat(200)])
      assert.equal(validateTopicSpec(spec({ name })).name, name);
  });

  it('refuses names some transport would refuse, naming the rule and the name', () => {
    for (const name of [
      '',
      '.',
      '..',
      '-x',
      '_x',
      'a b',
      'a*b',
      'a>b',
      'a/b',
      'a:b',
      'ünïcode',
      'x'.repeat(201),
    ])
      assert.throws(
        () => validateTopicSpec(spec({ name })),
        (error: unknown) =>
          error instanceof SluiceError &&
          error.message.includes('letters, digits') &&
          error.message.includes(`got ${JSON.stringify(name)}`),
      );
    refuses(spec({ name: 42 }), 'name', /one rule on every transport/);
  });

  it('is the Kafka character set, within Kafka’s 249 characters', () => {
    assert.ok(TOPIC_NAME_RULE.test('a.b_c-D9'));
    assert.ok(!TOPIC_NAME_RULE.test('x'.repeat(250)));
  });

  it('refuses an unknown kind, partitions out of range and a bad retention, naming the topic', () => {
    refuses(spec({ kind: 'log' }), 'kind', /orders\.v1.*message, event or entity/);
    for (const partitions of [0, 4097, 1.5, '2'])
      refuses(spec({ partitions }), 'partitions', /orders\.v1.*1 to 4096/);
    refuses(spec({ kind: 'message', retentionMs: 0 }), 'retentionMs', /orders\.v1.*positive/);
    refuses(spec({ kind: 'message', retentionMs: Number.NaN }), 'retentionMs', /positive/);
  });

  it('is what ensureTopic checks', async () => {
    const transport = createMemoryTransport();
    await assert.rejects(
      transport.ensureTopic(spec({ name: 'a b' })),
      /SLUICE_INVALID_OPTION|letters, digits/,
    );
    await transport.ensureTopic(spec({}));
    await transport.close();
  });
});
