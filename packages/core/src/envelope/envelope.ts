/**
 * A Sluice event on the wire: a CloudEvents 1.0 event with JSON data and Sluice's extension attributes.
 * `sequence` counts the events of one `source` and `subject` (key) from 1 without gaps, assigned in the
 * transaction that appended the event, so a consumer can tell a gap or a duplicate from the envelope alone.
 */
export interface Envelope<Data = unknown> {
  readonly specversion: '1.0';
  /** UUIDv7, unique per event; the inbox deduplicates on it. */
  readonly id: string;
  /** URI-reference naming the producing service, e.g. `urn:service:enrollments`. */
  readonly source: string;
  /** The contract type, e.g. `enrollment.created`. */
  readonly type: string;
  /** RFC 3339 time the event was appended. */
  readonly time: string;
  /** The event's key (the contract's key field). */
  readonly subject: string;
  readonly datacontenttype: 'application/json';
  /** Identifies the contract and its major version. */
  readonly dataschema: string;
  /** Orders the key's events; what else it promises is said by `sequencekind`. */
  readonly sequence: number;
  /**
   * What `sequence` is (Sluice's extension attribute; absent on events written before it existed, read as
   * `position`, so only order is checked):
   * - `counter`: the key's events are numbered 1, 2, 3, ... without gaps, assigned in the appending transaction
   *   (outbox appends). A consumer that sees 5 after 3 knows an event is missing.
   * - `position`: the commit position of the source transaction (change data capture, query-based sources,
   *   backfills). It rises with commit order per key but skips, and repeats for changes of one transaction, so
   *   only order can be checked, not gaps.
   */
  readonly sequencekind?: SequenceKind;
  /** W3C trace context of the producing operation. */
  readonly traceparent?: string;
  /** Id shared by every event of one business operation. */
  readonly correlationid?: string;
  /** Id of the event (or command) that caused this one. */
  readonly causationid?: string;
  readonly data: Data;
}

/** See {@link Envelope.sequencekind}. */
export type SequenceKind = 'counter' | 'position';

/** Optional context a producer attaches to an event. */
export interface EventContext {
  readonly traceparent?: string;
  readonly correlationid?: string;
  readonly causationid?: string;
}
