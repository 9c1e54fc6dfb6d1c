import { type MsgHdrs, headers as natsHeaders } from '@nats-io/transport-node';
import { type ConsumedRecord, type OutgoingRecord, STRUCTURED_CONTENT_TYPE } from '@sluice/core';
import type { PulledMessage } from './nats-cursor.js';

/** Header carrying the record's key (URI-encoded, so any string fits in a header line). */
export const KEY_HEADER = 'Sluice-Key';
/** Header carrying the record's own headers as URI-encoded JSON; absent when it has none. */
export const HEADERS_HEADER = 'Sluice-Headers';
/** Header marking a tombstone (`value: null`), which has an empty body. */
export const TOMBSTONE_HEADER = 'Sluice-Tombstone';
/**
 * The NATS binding's header saying a message is a CloudEvent in structured mode (the body is the whole event in
 * JSON): `application/cloudevents+json; charset=UTF-8`. Spelled as the binding and the Go SDK spell it.
 */
export const CONTENT_TYPE_HEADER = 'content-type';

const encoder = new TextEncoder();

/** A record as it goes on the wire. */
export interface EncodedRecord {
  readonly headers: MsgHdrs;
  readonly body: Uint8Array;
  /** Bytes the server counts against `max_payload`: headers block plus body. */
  readonly size: number;
}

/**
 * Encodes a record's key, headers, tombstone flag and `Nats-Msg-Id` (the record id) into NATS headers, and marks
 * an event as structured mode with {@link CONTENT_TYPE_HEADER} (not a tombstone, nor a record that brings its
 * own `content-type`, as binary mode does). The record's own headers stay in {@link HEADERS_HEADER}.
 */
export function encodeRecord(record: OutgoingRecord): EncodedRecord {
  const h = natsHeaders();
  const lines: [string, string][] = [
    ['Nats-Msg-Id', record.id],
    [KEY_HEADER, encodeURIComponent(record.key)],
  ];
  const own = record.headers == null ? [] : Object.keys(record.headers);
  if (own.length > 0) lines.push([HEADERS_HEADER, encodeURIComponent(JSON.stringify(record.headers))]);
  if (record.value === null) lines.push([TOMBSTONE_HEADER, '1']);
  else if (!own.some((k) => k.toLowerCase() === CONTENT_TYPE_HEADER)) {
    lines.push([CONTENT_TYPE_HEADER, STRUCTURED_CONTENT_TYPE]);
  }
  let headerBytes = 'NATS/1.0\r\n\r\n'.length;
  for (const [k, v] of lines) {
    h.set(k, v);
    headerBytes += k.length + 2 + Buffer.byteLength(v) + 2;
  }
  const body = record.value === null ? new Uint8Array(0) : encoder.encode(record.value);
  return { headers: h, body, size: headerBytes + body.length };
}

/** Stream metadata of a delivered JetStream message, from its `$JS.ACK...` reply subject. */
export interface DeliveryInfo {
  readonly streamSequence: number;
  readonly timestampMs: number;
  /** Messages left for the consumer after this one. */
  readonly pending: number;
}

const dots = new Int32Array(16);

/**
 * Parses `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>` (and the v2 form
 * `$JS.ACK.<domain>.<account>.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>[.<rand>]`).
 * Called for every record read, so it scans the subject once and allocates nothing but the result.
 */
export function deliveryInfo(reply: string | undefined): DeliveryInfo | undefined {
  if (reply === undefined || !reply.startsWith('$JS.ACK.')) return undefined;
  let n = 0;
  for (let i = 0; i < reply.length && n < 16; i++) if (reply.charCodeAt(i) === 46) dots[n++] = i;
  const tokens = n + 1;
  const base = tokens === 9 ? 2 : tokens >= 11 && tokens <= 12 ? 4 : -1;
  if (base < 0) return undefined;
  // Token k spans (dots[k - 1], dots[k]); the last token runs to the end. No closures here: this runs per record.
  const streamSequence = digits(reply, dots[base + 2]! + 1, dots[base + 3]!);
  // Nanoseconds: all but the last six digits are the milliseconds, exact as a double.
  const tsFrom = dots[base + 4]! + 1;
  const timestampMs = digits(reply, tsFrom, Math.max(tsFrom, dots[base + 5]! - 6));
  const pending = digits(reply, dots[base + 5]! + 1, base + 6 < n ? dots[base + 6]! : reply.length);
  if (Number.isNaN(streamSequence) || Number.isNaN(timestampMs) || Number.isNaN(pending)) return undefined;
  return { streamSequence, timestampMs, pending };
}

/** The decimal number in `text[from, to)`; NaN if it holds anything but digits. */
function digits(text: string, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return Number.NaN;
    value = value * 10 + d;
  }
  return value;
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/** Decodes a stored message into a record of `topic`. */
export function decodeRecord(topic: string, partition: number, m: PulledMessage): ConsumedRecord {
  const key = m.headers?.get(KEY_HEADER) ?? '';
  const json = m.headers?.get(HEADERS_HEADER) ?? '';
  const recordHeaders =
    json === '' ? NO_HEADERS : (JSON.parse(decodeURIComponent(json)) as Record<string, string>);
  const tombstone = m.headers?.get(TOMBSTONE_HEADER) === '1';
  return {
    topic,
    partition,
    offset: String(m.sequence),
    // Keys are URI-encoded on the wire; most (ids) have nothing encoded.
    key: key.includes('%') ? decodeURIComponent(key) : key,
    value: tombstone ? null : m.body,
    headers: recordHeaders,
    timestamp: m.timestamp,
  };
}
