import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { sleep } from './sleep.js';
import { waitForWake } from './wait-for-wake.js';

describe('waitForWake', () => {
  it('resolves when woken, and removes itself from the waiters', async () => {
    const waiters = new Set<() => void>();
    let settled = 0;
    const waiting = waitForWake(waiters, 60_000, undefined, () => settled++);
    assert.equal(waiters.size, 1);
    for (const wake of [...waiters]) wake();
    await waiting;
    assert.equal(waiters.size, 0);
    assert.equal(settled, 1);
  });

  it('resolves at the timeout', async () => {
    const waiters = new Set<() => void>();
    const started = Date.now();
    await waitForWake(waiters, 20);
    assert.ok(Date.now() - started >= 15);
    assert.equal(waiters.size, 0);
  });

  it('resolves when the signal aborts, and at once when it already has', async () => {
    const waiters = new Set<() => void>();
    const controller = new AbortController();
    const waiting = waitForWake(waiters, 60_000, controller.signal);
    controller.abort();
    await waiting;
    assert.equal(waiters.size, 0);
    const started = Date.now();
    await waitForWake(waiters, 60_000, controller.signal);
    await sleep(60_000, controller.signal);
    assert.ok(Date.now() - started < 1000);
    assert.equal(waiters.size, 0);
  });

  it('sleep resolves at once for 0 ms', async () => {
    let after = false;
    const timer = setTimeout(() => {
      after = true;
    }, 0);
    await sleep(0);
    assert.equal(after, false);
    clearTimeout(timer);
  });
});
