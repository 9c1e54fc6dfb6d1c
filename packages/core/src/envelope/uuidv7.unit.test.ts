import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { uuidv7, uuidv7Time } from './uuidv7.js';

describe('uuidv7', () => {
  const FORMAT = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  it('has version 7 and variant 10xx', () => {
    const variants = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const id = uuidv7();
      assert.match(id, FORMAT);
      assert.equal(id[14], '7');
      variants.add(id[19]!);
    }
    // 62 random bits: the variant nibble's two low bits are random too.
    assert.deepEqual([...variants].sort(), ['8', '9', 'a', 'b']);
  });

  it('generates 10k ids in a tight loop in strictly increasing order', () => {
    const ids: string[] = [];
    for (let i = 0; i < 10_000; i++) ids.push(uuidv7());
    for (let i = 1; i < ids.length; i++) {
      assert.ok(ids[i - 1]! < ids[i]!, `id ${i} (${ids[i]}) is not greater than id ${i - 1} (${ids[i - 1]})`);
    }
    assert.equal(new Set(ids).size, ids.length);
  });

  it('uuidv7Time returns the millisecond timestamp', () => {
    // RFC 9562 appendix A.6 example.
    assert.equal(uuidv7Time('017f22e2-79b0-7cc3-98c4-dc0c0c07398f'), 0x017f22e279b0);
    const before = Date.now();
    const id = uuidv7();
    const after = Date.now();
    const t = uuidv7Time(id);
    // The counter may borrow a millisecond or two after the 10k-id loop above.
    assert.ok(t >= before - 1 && t <= after + 10, `${t} not in [${before}, ${after}]`);
    const future = Date.now() + 60_000;
    assert.equal(uuidv7Time(uuidv7(future)), future);
  });

  it('stays increasing when the clock goes back, and borrows the next millisecond after 4096 ids', () => {
    const t = Date.now() + 120_000;
    const ids = Array.from({ length: 5000 }, () => uuidv7(t));
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! < ids[i]!);
    assert.equal(uuidv7Time(ids[0]!), t);
    assert.equal(uuidv7Time(ids[4095]!), t);
    assert.equal(uuidv7Time(ids[4096]!), t + 1);
    const earlier = uuidv7(t - 10_000);
    assert.ok(earlier > ids[ids.length - 1]!);
    assert.match(earlier, FORMAT);
  });
});
