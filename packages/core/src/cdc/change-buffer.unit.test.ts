import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChangeBuffer } from './change-buffer.js';
import type { RowChange } from './row-change.js';

const change = (index: number): RowChange => ({
  operation: 'insert',
  schema: 's',
  table: 't',
  before: undefined,
  after: { id: index },
  transactionId: '1',
  commitTime: 0,
  position: `p${index}`,
  sequence: 1,
  index,
});

describe('ChangeBuffer', () => {
  it('hands out up to limit, says when full and low, remembers the last position handed out', async () => {
    const b = new ChangeBuffer(4);
    for (let i = 0; i < 4; i++) b.push(change(i));
    assert.equal(b.full, true);
    assert.deepEqual(
      (await b.take(3, 0))?.map((c) => c.index),
      [0, 1, 2],
    );
    assert.equal(b.lastHandedOut, 'p2');
    assert.equal(b.full, false);
    assert.equal(b.low, true);
    assert.equal(b.first?.index, 3);
  });

  it('a waiting take wakes on a push', async () => {
    const b = new ChangeBuffer(10);
    const taken = b.take(10, 10_000);
    b.push(change(7));
    assert.deepEqual(
      (await taken)?.map((c) => c.index),
      [7],
    );
  });

  it('after a failure, hands out what came before it, then undefined; takeFailure clears both', async () => {
    const b = new ChangeBuffer(10);
    b.push(change(0));
    const error = new Error('gone');
    b.fail(error);
    b.fail(new Error('later'));
    assert.equal((await b.take(10, 10_000))?.length, 1);
    assert.equal(await b.take(10, 10_000), undefined);
    assert.equal(b.takeFailure(), error, 'the first failure');
    b.push(change(1));
    assert.equal((await b.take(10, 0))?.length, 1, 'working again');
  });
});
