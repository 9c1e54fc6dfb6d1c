import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay } from './backoff.js';

const options = { initialMs: 100, maxMs: 10_000, multiplier: 2 };
const low = () => 0;
const high = () => 0.999_999_999;

describe('backoffDelay', () => {
  it('is between half and all of initialMs on the first attempt', () => {
    assert.equal(backoffDelay(options, 1, low), 50);
    assert.equal(backoffDelay(options, 1, high), 100);
    assert.equal(
      backoffDelay(options, 1, () => 0.5),
      75,
    );
  });

  it('grows by the multiplier: attempt n is within [base/2, base] with base = initialMs * multiplier^(n-1)', () => {
    for (let attempt = 1; attempt <= 7; attempt++) {
      const base = 100 * 2 ** (attempt - 1);
      assert.equal(backoffDelay(options, attempt, low), base / 2, `attempt ${attempt} low`);
      assert.equal(backoffDelay(options, attempt, high), base, `attempt ${attempt} high`);
    }
  });

  it('never exceeds maxMs and never drops below maxMs/2 once capped, even for huge attempts', () => {
    for (const attempt of [8, 9, 20, 100, 1000, 10_000]) {
      assert.equal(backoffDelay(options, attempt, high), 10_000, `attempt ${attempt}`);
      assert.equal(backoffDelay(options, attempt, low), 5_000, `attempt ${attempt}`);
    }
  });

  it('caps the first delay too when initialMs > maxMs', () => {
    assert.equal(backoffDelay({ initialMs: 5000, maxMs: 1000, multiplier: 2 }, 1, high), 1000);
  });

  it('treats attempt 0 or below like the first attempt', () => {
    assert.equal(backoffDelay(options, 0, high), 100);
    assert.equal(backoffDelay(options, -3, low), 50);
  });

  it('returns whole milliseconds within bounds with the default random source', () => {
    for (let attempt = 1; attempt <= 12; attempt++) {
      const base = Math.min(10_000, 100 * 2 ** (attempt - 1));
      for (let i = 0; i < 200; i++) {
        const d = backoffDelay(options, attempt);
        assert.ok(Number.isInteger(d), `${d} is not an integer`);
        assert.ok(d >= base / 2 && d <= base, `attempt ${attempt}: ${d} not in [${base / 2}, ${base}]`);
      }
    }
  });

  it('jitters: many failing keys do not retry in lockstep', () => {
    const delays = new Set(Array.from({ length: 200 }, () => backoffDelay(options, 5)));
    assert.ok(delays.size > 50, `only ${delays.size} distinct delays`);
  });

  it('stays constant with multiplier 1', () => {
    assert.equal(backoffDelay({ initialMs: 200, maxMs: 1000, multiplier: 1 }, 50, high), 200);
  });
});
