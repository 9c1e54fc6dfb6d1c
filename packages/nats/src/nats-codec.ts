import { type Msg, type MsgHdrs, headers as natsHeaders } from '@nats-io/transport-node';
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
  /** The message as the client received it, when there is one (its raw header block is read directly). */
  readonly msg?: Msg;
}

/** The Sluice headers of a message. */
interface SluiceHeaders {
  key: string;
  json: string;
  tombstone: boolean;
}

/** Decodes a stored message into a record of `topic`. */
export function decodeRecord(topic: string, partition: number, m: StoredMessage): ConsumedRecord {
  const h = (m.msg === undefined ? undefined : rawSluiceHeaders(m.msg)) ?? sluiceHeaders(m.headers);
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

/**
 * The Sluice headers read straight from the message's raw header block (`NATS/1.0\r\nName: value\r\n...`), which
 * is much cheaper than building its `MsgHdrs`: this runs once per record read. Our values are URI-encoded, so
 * ASCII. `undefined` when the client does not expose the block as expected (the caller decodes `MsgHdrs`).
 */
function rawSluiceHeaders(msg: Msg): SluiceHeaders | undefined {
  const impl = msg as unknown as { _msg?: { hdr?: unknown }; _rdata?: unknown };
  const size = impl._msg?.hdr;
  const raw = impl._rdata;
  if (typeof size !== 'number' || !(raw instanceof Uint8Array) || size > raw.length) return undefined;
  const out: SluiceHeaders = { key: '', json: '', tombstone: false };
  if (size <= 0) return out;
  const block = Buffer.from(raw.buffer, raw.byteOffset, size).toString('latin1');
  let end = block.indexOf('\r\n');
  if (end < 0 || block.slice(0, end).trim() !== 'NATS/1.0') return undefined; // a status: not a record
  let key: string | undefined;
  let json: string | undefined;
  let tombstone: string | undefined;
  while (end >= 0) {
    const start = end + 2;
    end = block.indexOf('\r\n', start);
    const line = end < 0 ? block.slice(start) : block.slice(start, end);
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon);
    if (key === undefined && sameName(name, KEY_HEADER)) key = line.slice(colon + 1).trim();
    else if (json === undefined && sameName(name, HEADERS_HEADER)) json = line.slice(colon + 1).trim();
    else if (tombstone === undefined && sameName(name, TOMBSTONE_HEADER))
      tombstone = line.slice(colon + 1).trim();
  }
  out.key = key ?? '';
  out.json = json ?? '';
  out.tombstone = tombstone === '1';
  return out;
}

/** Header names match case-insensitively, as `MsgHdrs.get` matches them. */
function sameName(name: string, expected: string): boolean {
  return (
    name === expected || (name.length === expected.length && name.toLowerCase() === expected.toLowerCase())
  );
}
