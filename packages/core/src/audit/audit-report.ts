/**
 * What an audit found wrong with one event (or a run of missing ones):
 * - `missing`: a `counter` key's sequence numbers that never appear on the topic, or a delivered outbox row
 *   whose event is not on the topic;
 * - `out-of-order`: an event whose first appearance comes after a later one of its key (`counter`: after a
 *   higher sequence; `position`: after a higher position);
 * - `invented`: an event on the topic that the outbox does not have, although the outbox still holds the rows
 *   of its key around its sequence;
 * - `sequence-reused`: two different event ids with the same `counter` sequence of one key;
 * - `duplicate`: one event id stored more than once (an at-least-once re-send: consumers skip it; informational);
 * - `unreadable`: a record whose value is not a Sluice envelope.
 */
export type AuditProblemKind =
  | 'missing'
  | 'out-of-order'
  | 'invented'
  | 'sequence-reused'
  | 'duplicate'
  | 'unreadable';

/** Where a record sits on the transport. */
export interface RecordPosition {
  readonly partition: number;
  readonly offset: string;
}

/** One problem an audit found. */
export interface AuditProblem {
  readonly kind: AuditProblemKind;
  readonly topic: string;
  /** The event's CloudEvents `source` (empty for `unreadable`). */
  readonly source: string;
  /** The record's key. */
  readonly key: string;
  /** The sequence (or range `3-5`) that should be there: missing ones, or what should have come first. */
  readonly expected?: string;
  /** The sequence of the event as stored (absent for missing events). */
  readonly received?: number;
  /** The event ids concerned (for missing events: those the outbox still knows; may be empty). */
  readonly ids: readonly string[];
  /** Where the records concerned are stored (empty for missing events). */
  readonly at: readonly RecordPosition[];
  /** One sentence saying what is wrong. */
  readonly message: string;
}

/** What an audit read and found. */
export interface AuditReport {
  readonly topic: string;
  /** Records read from the topic (re-sends and tombstones included). */
  readonly records: number;
  /** Tombstones (records without a value): not audited. */
  readonly tombstones: number;
  /** Distinct chains (source, topic and key) seen on the topic. */
  readonly keys: number;
  /** Distinct event ids seen on the topic. */
  readonly events: number;
  /** Outbox rows of the topic compared, or null when no outbox was given. */
  readonly outboxRows: number | null;
  /** Number of problems per kind (every kind listed, 0 when none). */
  readonly counts: Readonly<Record<AuditProblemKind, number>>;
  /** True when a problem other than `duplicate` was found: events were lost, invented, reused or reordered. */
  readonly failed: boolean;
  /** Every problem: missing ones first (by source, key and sequence), then invented ones, then the rest in the order found. */
  readonly problems: readonly AuditProblem[];
  /** What the audit could not check, and why. */
  readonly notes: readonly string[];
}
