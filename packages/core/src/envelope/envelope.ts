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
  /** Per source and key, gap-free, from 1. */
  readonly sequence: number;
  /** W3C trace context of the producing operation. */
  readonly traceparent?: string;
  /** Id shared by every event of one business operation. */
  readonly correlationid?: string;
  /** Id of the event (or command) that caused this one. */
  readonly causationid?: string;
  readonly data: Data;
}

/** Optional context a producer attaches to an event. */
export interface EventContext {
  readonly traceparent?: string;
  readonly correlationid?: string;
  readonly causationid?: string;
}
