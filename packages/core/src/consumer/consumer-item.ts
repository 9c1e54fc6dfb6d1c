import type { Envelope, SequenceKind } from '../envelope/envelope.js';
import type { ConsumedRecord } from '../transport/records.js';
import type { SequenceVerdict } from './sequence-rule.js';

/** One delivered record while the consumer holds it. */
export interface Item {
  readonly record: ConsumedRecord;
  attempts: number;
  nextAttemptAt: number;
  done: boolean;
  /** The handler failed for good; only the dead-letter publish remains (retried if the transport is down). */
  deadLetter?: { code: string; message: string };
  /** What the inbox's chain check found on the last try, when something was wrong. */
  verdict?: SequenceVerdict | undefined;
  /** Held for a gap or order: how many checks refused it, and when that was last logged. */
  held?: { checks: number; loggedAt: number };
  /** Its envelope was seen by the consumer's deprecation watch (each record counted once, retries or not). */
  noticed?: boolean;
}

/** What the chain check needs of an event: a `ConsumedEvent`, or an envelope's attributes (see `chainEventOf`). */
export interface ChainEvent {
  readonly id: string;
  readonly source: string;
  readonly key: string;
  readonly sequence: number;
  readonly sequenceKind: SequenceKind;
}

/** The chain check's view of an envelope: the key is its subject, an absent sequence kind reads as `position`. */
export function chainEventOf(envelope: Envelope): ChainEvent {
  return {
    id: envelope.id,
    source: envelope.source,
    key: envelope.subject,
    sequence: envelope.sluiceseq,
    sequenceKind: envelope.sluiceseqkind ?? 'position',
  };
}
