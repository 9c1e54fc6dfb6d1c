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

/** Parses `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>` (and the v2 form). */
export function deliveryInfo(reply: string | undefined): DeliveryInfo | undefined {
  if (reply === undefined || !reply.startsWith('$JS.ACK.')) return undefined;
  const t = reply.split('.');
  // v1: 9 tokens; v2: $JS.ACK.<domain>.<account>.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>[.<rand>]
  const base = t.length === 9 ? 2 : t.length >= 11 ? 4 : -1;
  if (base < 0) return undefined;
  const streamSequence = Number(t[base + 3]);
  const timestampNanos = BigInt(t[base + 5] ?? '0');
  const pending = Number(t[base + 6]);
  return { streamSequence, timestampMs: Number(timestampNanos / 1_000_000n), pending };
}

/** Decodes a stored message into a record of `topic`. */
export function decodeRecord(
  topic: string,
  partition: number,
  sequence: number,
  timestamp: number,
  headers: MsgHdrs | undefined,
  data: Uint8Array,
): ConsumedRecord {
  const key = decodeURIComponent(headers?.get(KEY_HEADER) ?? '');
  const json = headers?.get(HEADERS_HEADER) ?? '';
  const recordHeaders = json === '' ? {} : (JSON.parse(decodeURIComponent(json)) as Record<string, string>);
  const tombstone = headers?.get(TOMBSTONE_HEADER) === '1';
  return {
    topic,
    partition,
    offset: String(sequence),
    key,
    value: tombstone ? null : decoder.decode(data),
    headers: recordHeaders,
    timestamp,
  };
}
