import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { SluiceError } from '../errors.js';
import type { ConsumedRecord } from '../transport/records.js';
import { failureAction, UNAVAILABLE_MAX_WAIT_MS } from './failure-policy.js';
import { KeyQueues } from './key-queues.js';

const rec = (partition: number, offset: number, key: string): ConsumedRecord => ({
  topic: 't',
  partition,
  offset: String(offset),
  key,
  value: null,
  headers: {},
  timestamp: 0,
});
const queues = (ordered = true) =>
  new KeyQueues(
    ordered,
    () => false,
    () => undefined,
  );

describe('KeyQueues', () => {
  it('lets only the head of a key run; the next becomes ready when it settles', () => {
    const q = queues();
    q.enqueue(rec(0, 0, 'a'));
    q.enqueue(rec(0, 1, 'a'));
    q.enqueue(rec(0, 2, 'b'));
    assert.equal(q.readyCount, 2);
    const first = q.takeReady();
    assert.equal(first.record.offset, '0');
    q.settle(first);
    assert.equal(q.readyCount, 2); // b and a's next
  });

  it('without key order every record is ready at once', () => {
    const q = queues(false);
    q.enqueue(rec(0, 0, 'a'));
    q.enqueue(rec(0, 1, 'a'));
    assert.equal(q.readyCount, 2);
  });

  it('commits only the settled prefix of each partition', () => {
    const q = queues();
    q.enqueue(rec(0, 0, 'a'));
    q.enqueue(rec(0, 1, 'b'));
    q.enqueue(rec(0, 2, 'c'));
    const a = q.takeReady();
    const b = q.takeReady();
    const c = q.takeReady();
    q.settle(a);
    q.settle(c);
    assert.deepEqual(
      q.takeSettledPositions().map((r) => r.offset),
      ['0'],
    );
    assert.equal(q.buffered, 2);
    q.settle(b);
    assert.deepEqual(
      q.takeSettledPositions().map((r) => r.offset),
      ['2'],
    );
    assert.equal(q.buffered, 0);
  });

  it('delays an item until it is due, and forgets revoked partitions', () => {
    const q = queues();
    q.enqueue(rec(0, 0, 'a'));
    q.enqueue(rec(1, 0, 'b'));
    const a = q.takeReady();
    a.nextAttemptAt = Date.now() + 60_000;
    q.delay(a);
    q.promoteDue();
    assert.equal(q.readyCount, 1);
    assert.ok(q.untilNextRetry() > 50_000);
    q.dropRevoked([{ topic: 't', partition: 1 }]);
    assert.equal(q.delayedCount, 0);
    assert.equal(q.buffered, 1);
  });
});

describe('failureAction', () => {
  const backoff = { initialMs: 100, maxMs: 10_000, multiplier: 2 };
  it('retries with backoff until the last attempt, then dead-letters', () => {
    const action = failureAction(new Error('boom'), 1, 3, backoff, 1);
    assert.equal(action.kind, 'retry');
    assert.equal(failureAction(new Error('boom'), 3, 3, backoff, 1).kind, 'dead-letter');
  });
  it('dead-letters a permanent error at once', () => {
    const permanent = new SluiceError('SLUICE_HANDLER_REJECTED', 'bad');
    assert.equal(failureAction(permanent, 1, 5, backoff, 1).kind, 'dead-letter');
  });
  it('waits for an unreachable database without limit, at most 2 s at a time', () => {
    const down = new SluiceError('SLUICE_DATABASE_UNAVAILABLE', 'connect ECONNREFUSED');
    const action = failureAction(down, 99, 3, backoff, 50);
    assert.equal(action.kind, 'wait-for-database');
    assert.ok(action.kind === 'wait-for-database' && action.delayMs <= UNAVAILABLE_MAX_WAIT_MS);
  });
  it("waits for Sluice's own busy statements (a deadlock, a lock timeout) without spending an attempt", () => {
    const busy = new SluiceError('SLUICE_BUSY', 'deadlock detected');
    assert.equal(failureAction(busy, 99, 3, backoff, 1).kind, 'wait-for-database');
  });
});
