import { InvalidOptionError } from '../errors.js';

/**
 * Kafka's murmur2 hash (the Java client's `Utils.murmur2`), so a key lands in the same partition number on
 * the embedded log as Kafka's default partitioner would choose.
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  const m = 0x5bd1e995;
  let h = (0x9747b28c ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k =
      (data[i4]! & 0xff) |
      ((data[i4 + 1]! & 0xff) << 8) |
      ((data[i4 + 2]! & 0xff) << 16) |
      ((data[i4 + 3]! & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const tail = length & ~3;
  const rest = length & 3;
  if (rest === 3) h ^= (data[tail + 2]! & 0xff) << 16;
  if (rest >= 2) h ^= (data[tail + 1]! & 0xff) << 8;
  if (rest >= 1) {
    h ^= data[tail]! & 0xff;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

const encoder = new TextEncoder();

/** The partition of `key` among `partitions`, as Kafka's default partitioner computes it. */
export function partitionFor(key: string, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new InvalidOptionError(
      'partitionFor',
      'partitions',
      `must be a positive integer, got ${partitions}`,
    );
  }
  if (partitions === 1) return 0;
  return (murmur2(encoder.encode(key)) & 0x7fffffff) % partitions;
}
