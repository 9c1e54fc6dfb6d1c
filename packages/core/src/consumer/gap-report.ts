import { decodeEnvelope } from '../envelope/codec.js';
import type { ChainEvent, Item } from './consumer-item.js';
import type { SequenceVerdict } from './sequence-rule.js';

/** Whether `other` (queued behind the held `held`) is the event `held`'s chain is missing. */
export function isMissing(held: Item, other: Item): boolean {
  const verdict = held.verdict;
  if (verdict?.problem !== 'gap' || other.record.value === null) return false;
  try {
    const mine = decodeEnvelope(held.record.value);
    const theirs = decodeEnvelope(other.record.value);
    return (
      theirs.sluiceseq === verdict.expected &&
      theirs.source === mine.source &&
      theirs.subject === mine.subject &&
      (theirs.sluiceseqkind ?? 'position') === 'counter'
    );
  } catch {
    return false;
  }
}

/** The log message of a gap or order problem found on `item`, and what the consumer does about it. */
export function gapMessage(
  item: Item,
  event: ChainEvent,
  verdict: SequenceVerdict,
  action: 'held' | 'continued',
): string {
  const { record } = item;
  const what =
    verdict.problem === 'gap'
      ? `sequence gap: expected ${verdict.expected}, received ${verdict.received}`
      : `out of order: expected ${event.sequenceKind === 'counter' ? '' : 'at least '}${verdict.expected}, received ${verdict.received}`;
  const doing =
    action === 'held'
      ? 'the event is held and its key waits (onGap: hold); re-publish the missing event, or see "Gaps and order" in the README'
      : 'going on (onGap: continue)';
  return `${what} on ${record.topic} partition ${record.partition} offset ${record.offset} key ${event.key}: ${doing}`;
}

/** The structured log fields of a gap or order problem. */
export function gapFields(
  group: string,
  onGap: string,
  item: Item,
  event: ChainEvent,
  verdict: SequenceVerdict | undefined,
) {
  const { record } = item;
  return {
    group,
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    key: event.key,
    source: event.source,
    id: event.id,
    problem: verdict?.problem,
    expected: verdict?.expected,
    received: event.sequence,
    policy: onGap,
  };
}
