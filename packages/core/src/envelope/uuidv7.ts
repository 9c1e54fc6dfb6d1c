import { randomFillSync } from 'node:crypto';

const pool = Buffer.allocUnsafe(16 * 256);
let poolOffset = pool.length;
let lastMs = 0;
let counter = 0;
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * A UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then a 12-bit counter that keeps ids generated in the same
 * millisecond by this process in increasing order, then 62 random bits.
 */
export function uuidv7(now: number = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    counter = 0;
  } else {
    counter++;
    if (counter > 0xfff) {
      // More than 4096 ids in one millisecond: borrow the next millisecond to stay monotonic.
      lastMs++;
      counter = 0;
    }
  }
  if (poolOffset + 16 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const r = pool.subarray(poolOffset, poolOffset + 16);
  poolOffset += 16;
  const ms = lastMs;
  const b = new Array<string>(16);
  b[0] = HEX[Math.floor(ms / 2 ** 40) & 0xff]!;
  b[1] = HEX[Math.floor(ms / 2 ** 32) & 0xff]!;
  b[2] = HEX[(ms >>> 24) & 0xff]!;
  b[3] = HEX[(ms >>> 16) & 0xff]!;
  b[4] = HEX[(ms >>> 8) & 0xff]!;
  b[5] = HEX[ms & 0xff]!;
  b[6] = HEX[0x70 | ((counter >>> 8) & 0x0f)]!;
  b[7] = HEX[counter & 0xff]!;
  b[8] = HEX[0x80 | (r[8]! & 0x3f)]!;
  for (let i = 9; i < 16; i++) b[i] = HEX[r[i]!]!;
  return `${b[0]}${b[1]}${b[2]}${b[3]}-${b[4]}${b[5]}-${b[6]}${b[7]}-${b[8]}${b[9]}-${b[10]}${b[11]}${b[12]}${b[13]}${b[14]}${b[15]}`;
}

/** The millisecond timestamp inside a UUIDv7. */
export function uuidv7Time(id: string): number {
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
