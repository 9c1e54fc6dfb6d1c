import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import type { CompatibilityMode } from '../compatibility-mode.js';
import type { Deprecation } from '../contract-guarantees.js';
import { defineEvent } from '../define-event.js';
import { defineKey } from '../define-key.js';
import { defineTopic } from '../define-topic.js';
import { buildLock, lockContract } from '../lock/build-lock.js';
import { checkLock } from './check-lock.js';

const OrderId = defineKey('orderId', z.string(), { description: 'An order' });
const topic = defineTopic({ name: 'orders', kind: 'event' });
const v = (
  version: number,
  shape: z.ZodRawShape,
  o: { compatibility?: CompatibilityMode; deprecated?: Deprecation } = {},
) =>
  defineEvent({
    type: 'order.placed',
    version,
    key: OrderId,
    topic,
    description: 'placed',
    schema: z.object({ orderId: OrderId.schema, ...shape }),
    ...o,
  });
const lines = (findings: ReturnType<typeof checkLock>) =>
  findings.map((f) => `${f.severity} ${f.type} v${f.version}: ${f.path ?? ''}: ${f.message}`);

describe('checkLock', () => {
  const v1 = v(1, { total: z.number() });

  it('passes when the code matches the lock', () => {
    assert.deepEqual(checkLock(buildLock([v1]), [lockContract(v1)]), []);
  });

  it('a locked version is immutable: an edit names the field, whom it breaks and what to do', () => {
    const edited = v(1, { total: z.number(), currency: z.string() });
    const out = lines(checkLock(buildLock([v1]), [lockContract(edited)]));
    assert.deepEqual(out, [
      'error order.placed v1: #/properties/currency: the edited schema requires a property that the locked schema (a closed object) never has (REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL); breaks consumers built on the edit reading events already written; version 1 is locked: revert it, or add version 2',
      'error order.placed v1: #/properties/currency: the locked schema is a closed object without a property that the edited schema has: it rejects events carrying it (PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL); breaks consumers of the locked version reading new events; version 1 is locked: revert it, or add version 2',
    ]);
  });

  it('a compatible edit of a locked version is still an error; a key or topic change is named', () => {
    const other = defineTopic({ name: 'orders-v2', kind: 'event' });
    const moved = defineEvent({ ...v1, topic: other, schema: v1.schema });
    const out = lines(checkLock(buildLock([v1]), [lockContract(moved)]));
    assert.equal(out.length, 1);
    assert.match(
      out[0]!,
      /^error order.placed v1: topic: topic changed from .*"orders".* to .*"orders-v2".*; breaks/,
    );
  });

  it('an unlocked version is an error; a breaking v2 under BACKWARD is an error; under NONE it is not', () => {
    const v2 = v(2, { total: z.string() });
    const out = lines(checkLock(buildLock([v1]), [lockContract(v1), lockContract(v2)]));
    assert.deepEqual(out, [
      'error order.placed v2: : not locked: run `sluice contracts lock` and commit contracts.lock.json',
      "error order.placed v2: #/properties/total: the type in the new schema differs from the type in the old schema (TYPE_CHANGED, v2 vs v1, BACKWARD); breaks consumers of the new version reading old events; make the change compatible, declare compatibility: 'NONE' with an upcaster for consumers, or use a new event type",
    ]);
    const none = v(2, { total: z.string() }, { compatibility: 'NONE' });
    assert.deepEqual(checkLock(buildLock([v1, none]), [lockContract(v1), lockContract(none)]), []);
  });

  it('a locked live version missing from the code is an error; a deprecated one is not, and warns while produced', () => {
    const v2 = v(2, { total: z.number(), note: z.string().optional() });
    const gone = lines(checkLock(buildLock([v1, v2]), [lockContract(v2)]));
    assert.equal(gone.length, 1);
    assert.match(
      gone[0]!,
      /^error order.placed v1: : locked but no longer in the code: removing a live version breaks its consumers/,
    );
    const dep = v(1, { total: z.number() }, { deprecated: { since: '2026-11-01', replacedBy: 2 } });
    const lock = buildLock([dep, v2]);
    assert.deepEqual(checkLock(lock, [lockContract(v2)]), []);
    const warned = checkLock(lock, [lockContract(dep), lockContract(v2)]);
    assert.deepEqual(lines(warned), [
      'warning order.placed v1: : v1 deprecated since 2026-11-01, still produced: move producers to v2',
    ]);
  });
});
