/**
 * A Sluice event on the wire: a CloudEvents 1.0 event with JSON data and Sluice's extension attributes. Each
 * property is the CloudEvents attribute of the same name (docs/cloudevents.md lists them with their types and an
 * example record per transport). Sluice's per-key order lives in its own extension attributes, `sluiceseq` and
 * `sluiceseqkind`: CloudEvents' `sequence` extension is a per-source lexicographic String, which a per-key
 * counter is not, so Sluice does not write `sequence` (it still reads it from records written before them, see
 * `decodeEnvelope`).
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
  /**
   * The event's key again, as the CloudEvents Partitioning extension's `partitionkey` (String): what a
   * CloudEvents consumer or broker partitions on. The Kafka binding maps it to the record key. Equal to
   * `subject` for every event Sluice writes; read as `subject` from records written before it existed.
   */
  readonly partitionkey: string;
  /**
   * Sluice's extension attribute `sluiceseq`: orders the events of one `source` and `subject` (key); what else
   * it promises is said by `sluiceseqkind`. On the wire a String holding a positive decimal integer (no sign, no
   * leading zero, at most 2^53 - 1): CloudEvents' Integer is 32 bits, too small for commit positions. Here the
   * number.
   */
  readonly sluiceseq: number;
  /**
   * Sluice's extension attribute `sluiceseqkind` (String), saying what `sluiceseq` is; absent on events written
   * before it existed, read as `position`, so only order is checked:
   * - `counter`: the key's events are numbered 1, 2, 3, ... without gaps, assigned in the appending transaction
   *   (outbox appends). A consumer that sees 5 after 3 knows an event is missing.
   * - `position`: the commit position of the source transaction (change data capture, query-based sources,
   *   backfills). It rises with commit order per key but skips, and repeats for changes of one transaction, so
   *   only order can be checked, not gaps.
   */
  readonly sluiceseqkind?: SequenceKind;
  /** W3C trace context of the producing operation (the CloudEvents Distributed Tracing extension). */
  readonly traceparent?: string;
  /** Id shared by every event of one business operation. */
  readonly correlationid?: string;
  /** Id of the event (or command) that caused this one. */
  readonly causationid?: string;
  /**
   * Sluice's extension attribute `sluicefact` (String): set when one business fact was published as several
   * versions of its type in one transaction (`appendVersions`, during a migration); the same id on each of those
   * envelopes (the first one's event id). A consumer records it in its inbox instead of the event id, so it
   * applies the fact once whichever versions it receives.
   */
  readonly sluicefact?: string;
  /**
   * Sluice's extension attribute `sluicefactschemas` (String): with `sluicefact`, the `dataschema` of every
   * version the fact was published as, separated by spaces, oldest first. A consumer applies the newest of them
   * it can (by a handler or upcasters) and skips the others.
   */
  readonly sluicefactschemas?: string;
  readonly data: Data;
}

/** See {@link Envelope.sluiceseqkind}. */
export type SequenceKind = 'counter' | 'position';

/**
 * The media type of a CloudEvent in JSON structured mode, as the Kafka and NATS bindings put it in the
 * `content-type` header of a record whose value is the whole event.
 */
export const STRUCTURED_CONTENT_TYPE = 'application/cloudevents+json; charset=UTF-8';

/** Optional context a producer attaches to an event. */
export interface EventContext {
  readonly traceparent?: string;
  readonly correlationid?: string;
  readonly causationid?: string;
}
