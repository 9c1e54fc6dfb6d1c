import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chainOf, forgetAcknowledged, type GateCandidate, releaseInSequence } from './sequence-gate.js';

const candidate = (position: number, key: string, sequence: number, delivered = 0): GateCandidate => ({
  row: { position, id: `e${position}`, topic: 't', key, value: null },
  chain: chainOf('s', 't', key),
  sequence,
  delivered,
});

test('releases each key in sequence, holding a row back until the one before it is released', () => {
  const returned = new Map<string, number>();
  const out: { position: number }[] = [];
  // a:2 committed (and was read) before a:1; b is in order; c waits for c:1, which is not there.
  const held = releaseInSequence(
    [
      candidate(1, 'a', 2),
      candidate(2, 'b', 1),
      candidate(3, 'a', 1),
      candidate(4, 'c', 2),
      candidate(5, 'b', 2),
    ],
    returned,
    10,
    out as never,
  );
  assert.deepEqual(
    out.map((r) => r.position),
    [2, 3, 5, 1],
  );
  assert.deepEqual(
    held.map((c) => c.row.position),
    [4],
  );
  assert.equal(returned.get(chainOf('s', 't', 'a')), 2);
});

test('starts after what was acknowledged, stops at the limit, and forgets acknowledged chains', () => {
  const returned = new Map<string, number>();
  const out: never[] = [];
  const held = releaseInSequence(
    [candidate(1, 'a', 6, 5), candidate(2, 'a', 7, 5), candidate(3, 'b', 1)],
    returned,
    2,
    out,
  );
  assert.equal(out.length, 2);
  assert.deepEqual(
    held.map((c) => c.row.position),
    [3],
  );
  const state = { returned };
  forgetAcknowledged([state], [{ chain: chainOf('s', 't', 'a'), sequence: 7 }]);
  assert.equal(state.returned.has(chainOf('s', 't', 'a')), false);
});
