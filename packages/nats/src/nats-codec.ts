import { type MsgHdrs, headers as natsHeaders } from '@nats-io/transport-node';
import type { ConsumedRecord, OutgoingRecord } from '@sluice/core';

/** Header carrying the record's key (URI-encoded, so any string fits in a header line). */
export const KEY_HEADER = 'Sluice-Key';
/** Header carrying the record's own headers as URI-encoded JSON; absent when it has none. */
export const HEADERS_HEADER = 'Sluice-Headers';
/** Header marking a tombstone (`value: null`), which has an empty body. */
export const TOMBSTONE_HEADER = 'Sluice-Tombstone';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A record as it goes on the wire. */
export interface EncodedRecord {
  readonly headers: MsgHdrs;
  readonly body: Uint8Array;
  /** Bytes the server counts against `max_payload`: headers block plus body. */
  readonly size: number;
}

/** Encodes a record's key, headers, tombstone flag and `Nats-Msg-Id` (the record id) into NATS headers. */
export function encodeRecord(record: OutgoingRecord): EncodedRecord {
  const h = natsHeaders();
  const lines: [string, string][] = [
    ['Nats-Msg-Id', record.id],
    [KEY_HEADER, encodeURIComponent(record.key)],
  ];
  if (record.headers != null && Object.keys(record.headers).length > 0) {
    lines.push([HEADERS_HEADER, encodeURIComponent(JSON.stringify(record.headers))]);
  }
  if (record.value === null) lines.push([TOMBSTONE_HEADER, '1']);
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

const ACK_PREFIX = '$JS.ACK.';
/** Dot positions of the reply subject being parsed (no allocation per message). */
const dots = new Int32Array(16);

/**
 * Parses `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>` (and the v2 form
 * `$JS.ACK.<domain>.<account>.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>[.<rand>]`) without
 * splitting it: it runs once per delivered message.
 */
export function deliveryInfo(reply: string | undefined): DeliveryInfo | undefined {
  if (reply === undefined || !reply.startsWith(ACK_PREFIX)) return undefined;
  let n = 0;
  for (let i = reply.indexOf('.'); i >= 0 && n < dots.length; i = reply.indexOf('.', i + 1)) dots[n++] = i;
  // Tokens: n + 1. v1: 9 tokens; v2: 11 or 12.
  const base = n === 8 ? 2 : n === 10 || n === 11 ? 4 : -1;
  if (base < 0) return undefined;
  const streamSequence = digits(reply, dots[base + 2]! + 1, dots[base + 3]!);
  // Nanoseconds to milliseconds: the digits but the last six (exact, unlike dividing a double).
  const tsEnd = dots[base + 5]!;
  const tsStart = dots[base + 4]! + 1;
  const timestampMs = tsEnd - tsStart > 6 ? digits(reply, tsStart, tsEnd - 6) : 0;
  const pending = digits(reply, dots[base + 5]! + 1, base + 6 < n ? dots[base + 6]! : reply.length);
  if (Number.isNaN(streamSequence) || Number.isNaN(timestampMs) || Number.isNaN(pending)) return undefined;
  return { streamSequence, timestampMs, pending };
}

/** The decimal number in `s[from, to)`; NaN if it is not one. */
function digits(s: string, from: number, to: number): number {
  if (to <= from) return Number.NaN;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return Number.NaN;
    n = n * 10 + d;
  }
  return n;
}

/** A stored message as readers decode it. */
export interface StoredMessage {
  readonly sequence: number;
  readonly timestamp: number;
  readonly headers: MsgHdrs | undefined;
  readonly data: Uint8Array;
}

/** The Sluice headers of a message. */
interface SluiceHeaders {
  key: string;
  json: string;
  tombstone: boolean;
}

/** Decodes a stored message into a record of `topic`. */
export function decodeRecord(topic: string, partition: number, m: StoredMessage): ConsumedRecord {
  const h = sluiceHeaders(m.headers);
  return {
    topic,
    partition,
    offset: String(m.sequence),
    key: h.key.includes('%') ? decodeURIComponent(h.key) : h.key,
    value: h.tombstone ? null : decoder.decode(m.data),
    headers: h.json === '' ? {} : (JSON.parse(decodeURIComponent(h.json)) as Record<string, string>),
    timestamp: m.timestamp,
  };
}

function sluiceHeaders(headers: MsgHdrs | undefined): SluiceHeaders {
  return {
    key: headers?.get(KEY_HEADER) ?? '',
    json: headers?.get(HEADERS_HEADER) ?? '',
    tombstone: headers?.get(TOMBSTONE_HEADER) === '1',
  };
}
