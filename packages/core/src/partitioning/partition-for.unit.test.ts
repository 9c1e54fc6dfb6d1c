import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { murmur2, partitionFor } from './partition-for.js';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('murmur2', () => {
  // Kafka clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java, testMurmur2.
  const kafka: Array<[string, number]> = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ];
  for (const [input, expected] of kafka) {
    it(`matches Kafka's Utils.murmur2(${JSON.stringify(input)}) = ${expected}`, () => {
      assert.equal(murmur2(bytes(input)), expected);
    });
  }

  it('matches Kafka for every tail length (0-3 trailing bytes) and the empty input', () => {
    // Values of Kafka's Utils.murmur2, as also checked by Akka's Murmur2Spec and librdkafka's rdmurmur2 tests.
    const cases: Array<[string, number]> = [
      ['', 275646681],
      ['1', -1993445489],
      ['12', 126087238],
      ['123', -267702483],
      ['1234', -1614185708],
      ['12345', -1188365604],
      ['kafka', -798503068],
      ['giberish123456789', -1890243828],
    ];
    for (const [input, expected] of cases)
      assert.equal(murmur2(bytes(input)), expected, JSON.stringify(input));
  });

  it('hashes bytes >= 0x80 as unsigned (Java masks & 0xff), i.e. over the UTF-8 encoding', () => {
    const a = murmur2(bytes('ü'));
    const b = murmur2(new Uint8Array([0xc3, 0xbc]));
    assert.equal(a, b);
    assert.notEqual(murmur2(new Uint8Array([0xff])), murmur2(new Uint8Array([0x7f])));
    assert.ok(Number.isInteger(a) && a >= -(2 ** 31) && a < 2 ** 31);
  });
});

describe('partitionFor', () => {
  it("is Kafka's default partitioner: toPositive(murmur2(key)) % partitions", () => {
    // -973932308 & 0x7fffffff = 1173551340; 1173551340 % 8 = 4.
    assert.equal(partitionFor('21', 8), 4);
    assert.equal(partitionFor('foobar', 12), (-790332482 & 0x7fffffff) % 12);
    assert.equal(partitionFor('abc', 3), 479470107 % 3);
    assert.equal(partitionFor('anything', 1), 0);
  });

  it('spreads 10k keys over 8 partitions evenly enough and always in range', () => {
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const p = partitionFor(`student-${i}`, 8);
      assert.ok(Number.isInteger(p) && p >= 0 && p < 8, `partition ${p}`);
      counts[p]!++;
    }
    // Expected 1250 each; a uniform hash stays within ±15% with overwhelming probability (sd ≈ 33).
    for (const [p, n] of counts.entries())
      assert.ok(n > 1062 && n < 1438, `partition ${p} got ${n} of 10000: ${counts}`);
    // Chi-square with 7 degrees of freedom; 24.3 is the 0.999 quantile.
    const chi2 = counts.reduce((sum, n) => sum + (n - 1250) ** 2 / 1250, 0);
    assert.ok(chi2 < 24.3, `chi-square ${chi2.toFixed(1)} for ${counts}`);
  });

  it('is stable: the same key always gets the same partition, uuid keys too', () => {
    const keys = Array.from(
      { length: 1000 },
      (_, i) => `0190a3c4-5e6f-7a8b-9c0d-${String(i).padStart(12, '0')}`,
    );
    const first = keys.map((k) => partitionFor(k, 8));
    const second = keys.map((k) => partitionFor(k, 8));
    assert.deepEqual(second, first);
    assert.ok(new Set(first).size === 8, 'uuid keys should reach every partition');
  });
});
