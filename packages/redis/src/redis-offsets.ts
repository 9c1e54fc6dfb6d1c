import { TransportError } from '@sluice/core';
import { invalidOffsetError, REDIS_NAME } from './redis-errors.js';

/**
 * Offsets are stream ids mapped reversibly to one decimal number: `ms-seq` ↔ `ms * 2^20 + seq`. Redis gives
 * each entry of a stream a larger id than the one before (even if the clock goes back), so offsets increase
 * within a partition, and a time `t` is the offset `t * 2^20`. The mapping needs `seq < 2^20`, i.e. fewer than
 * a million entries in one stream within one millisecond, which a single Redis cannot append.
 */
const SEQ_BITS = 20n;
const SEQ_LIMIT = 1n << SEQ_BITS;

/** The offset of stream id `ms-seq`. */
export function offsetOfId(id: string): bigint {
  const dash = id.indexOf('-');
  const ms = BigInt(id.slice(0, dash));
  const seq = BigInt(id.slice(dash + 1));
  if (seq >= SEQ_LIMIT) {
    throw new TransportError(
      'SLUICE_OFFSET_OVERFLOW',
      `${REDIS_NAME}: stream id ${id} has a sequence number of 2^20 or more, which no offset can represent`,
    );
  }
  return (ms << SEQ_BITS) | seq;
}

/** The stream id of `offset` (which need not exist). */
export function idOfOffset(offset: bigint): string {
  return `${offset >> SEQ_BITS}-${offset & (SEQ_LIMIT - 1n)}`;
}

/** The first offset at or after `time` (ms since the epoch). */
export function offsetOfTime(time: number): bigint {
  return BigInt(Math.max(0, Math.floor(time))) << SEQ_BITS;
}

/** The time (ms since the epoch) an entry with this offset was stored. */
export function timeOfOffset(offset: bigint): number {
  return Number(offset >> SEQ_BITS);
}

/** Parses an offset string from a PublishAck or ConsumedRecord. */
export function parseOffset(offset: string): bigint {
  if (typeof offset !== 'string' || !/^\d{1,30}$/.test(offset)) throw invalidOffsetError(offset);
  return BigInt(offset);
}

/** The larger of two offsets (`Math.max` does not take bigints). */
export function laterOffset(a: bigint, b: bigint): bigint {
  if (a > b) return a;
  return b;
}
