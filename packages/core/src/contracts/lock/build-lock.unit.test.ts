import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defineEvent } from '../define-event.js';
import { defineKey } from '../define-key.js';
import { defineTopic } from '../define-topic.js';
import { buildLock, fingerprintOf } from './build-lock.js';
import { canonicalJson } from './canonical-json.js';

const AccountId = defineKey('accountId', z.string().regex(/^A-\d+$/), { description: 'An account' });
const topic = defineTopic({ name: 'accounts', kind: 'event', partitions: 2 });
const v = (version: number, schema: z.ZodObject) =>
  defineEvent({ type: 'account.opened', version, key: AccountId, topic, description: 'opened', schema });

describe('buildLock', () => {
  it('locks each version with its schema, key, topic, mode and guarantees, sorted, fingerprinted', () => {
    const lock = buildLock(
      [
        v(2, z.object({ accountId: AccountId.schema, email: z.email() })),
        v(1, z.object({ accountId: AccountId.schema })),
      ],
      { service: 'urn:service:accounts' },
    );
    assert.equal(lock.service, 'urn:service:accounts');
    assert.deepEqual(
      lock.contracts.map((c) => c.version),
      [1, 2],
    );
    const [v1] = lock.contracts;
    assert.equal(v1!.key.name, 'accountId');
    assert.equal((v1!.key.schema as { pattern?: string }).pattern, '^A-\\d+$');
    assert.deepEqual(v1!.topic, { name: 'accounts', kind: 'event', partitions: 2 });
    assert.equal(v1!.compatibility, 'BACKWARD');
    assert.equal(v1!.backfill, true);
    assert.match(v1!.fingerprint, /^[0-9a-f]{64}$/);
    assert.equal(fingerprintOf(v1!), v1!.fingerprint);
  });

  it('the fingerprint changes with any change of a version, and not with key order', () => {
    const a = buildLock([v(1, z.object({ accountId: AccountId.schema }))]).contracts[0]!;
    const b = buildLock([v(1, z.object({ accountId: AccountId.schema, note: z.string().optional() }))])
      .contracts[0]!;
    assert.notEqual(a.fingerprint, b.fingerprint);
    assert.equal(canonicalJson({ b: 1, a: [2, { d: 1, c: 2 }] }), '{"a":[2,{"c":2,"d":1}],"b":1}');
  });
});
