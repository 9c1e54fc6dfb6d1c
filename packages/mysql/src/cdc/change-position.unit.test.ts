import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatChangePosition, parseChangePosition, transactionsAhead } from './change-position.js';
import { advanceGtidPosition, parseGtidPosition, purgedDomain } from './gtid-position.js';

describe('GTID and change positions', () => {
  it('a change position round-trips; anything else is refused', () => {
    const p = { before: '0-1-99,1-2-5', gtid: '0-1-100', index: 3 };
    assert.equal(formatChangePosition(p), '0-1-99,1-2-5/0-1-100#3');
    assert.deepEqual(parseChangePosition(formatChangePosition(p)), p);
    assert.deepEqual(parseChangePosition('/0-1-1#0'), { before: '', gtid: '0-1-1', index: 0 });
    for (const bad of ['', '0-1-100', '0-1-99/0-1#1', 'x/0-1-1#0', '0-1-1/0-1-2#-1']) {
      assert.equal(parseChangePosition(bad), undefined, bad);
    }
  });

  it("advancing replaces the transaction domain's entry only", () => {
    assert.equal(advanceGtidPosition('0-1-99,1-2-5', '0-3-100'), '0-3-100,1-2-5');
    assert.equal(advanceGtidPosition('', '2-1-7'), '2-1-7');
    assert.equal(parseGtidPosition('0-1-1,0-1-2'), undefined, 'one entry per domain');
  });

  it('counts transactions ahead per domain', () => {
    assert.equal(transactionsAhead('0-1-10', '0-1-7'), 3n);
    assert.equal(transactionsAhead('0-1-7', '0-1-10'), 0n);
    assert.equal(transactionsAhead('0-1-10,1-1-2', '0-1-10'), 2n);
    assert.equal(transactionsAhead('0-1-10', undefined), 10n);
  });

  it('a position is purged when the oldest binlog starts past it in some domain', () => {
    assert.equal(purgedDomain('0-1-100', '0-1-100'), undefined);
    assert.equal(purgedDomain('0-1-100', '0-1-50'), undefined);
    assert.equal(purgedDomain('0-1-99', '0-1-100'), 0);
    assert.equal(purgedDomain('0-1-100', '0-1-100,1-1-1'), 1, 'a domain never read');
    assert.equal(purgedDomain('', ''), undefined);
  });
});
