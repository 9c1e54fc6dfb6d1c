import type { SequenceKind } from '../envelope/envelope.js';

/** What is wrong with an event's sequence: a `gap` (events missing before it) or `out-of-order`. */
export type SequenceProblem = 'gap' | 'out-of-order';

/** The verdict on one event's sequence against its chain's last applied one. */
export interface SequenceVerdict {
  /** `undefined` when the event may be applied. */
  readonly problem: SequenceProblem | undefined;
  /** Counter: the sequence that should come next. Position: the least acceptable one (the last applied). */
  readonly expected: number | undefined;
  readonly received: number;
  /** The chain's last sequence once the event is applied: the larger of the stored one and the event's. */
  readonly next: number;
}

/**
 * The consumer's rule for one event, given its chain's stored last applied sequence `last`:
 *
 * - `counter` (outbox appends, 1, 2, 3... per source, topic and key): `last + 1` applies; more is a `gap`
 *   (expected `last + 1`); a new event at or below `last` is `out-of-order`.
 * - `position` (CDC, polling, backfills: rises per key, skips, repeats within a transaction): only order is
 *   checked; below `last` is `out-of-order`, equal or above is fine.
 * - No stored state: the chain starts wherever it is first seen, unless `fromFirst` (a counter event on an
 *   `event` topic read by a group that has tracked its chains from their first event): then it must be 1.
 */
export function judgeSequence(
  kind: SequenceKind,
  last: number | undefined,
  received: number,
  fromFirst: boolean,
): SequenceVerdict {
  const next = last === undefined ? received : Math.max(last, received);
  if (kind === 'counter') {
    const expected = last === undefined ? (fromFirst ? 1 : received) : last + 1;
    if (received === expected) return { problem: undefined, expected, received, next };
    return { problem: received > expected ? 'gap' : 'out-of-order', expected, received, next };
  }
  if (last !== undefined && received < last)
    return { problem: 'out-of-order', expected: last, received, next };
  return { problem: undefined, expected: last, received, next };
}
