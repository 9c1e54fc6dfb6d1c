import { MalformedEnvelopeError } from '../errors.js';
import type { Envelope } from './envelope.js';

/** CloudEvents attributes every event carries, in wire order (structured mode). */
const REQUIRED = ['specversion', 'id', 'source', 'type', 'time', 'subject', 'dataschema'] as const;
const OPTIONAL = ['traceparent', 'correlationid', 'causationid', 'sluicefact', 'sluicefactschemas'] as const;
const SEQUENCE = /^[1-9]\d{0,15}$/;

/**
 * Encodes an envelope in the CloudEvents JSON event format, the value of a structured-mode record
 * (`application/cloudevents+json`). `sluiceseq` is written as a String attribute holding the decimal number
 * (see {@link Envelope.sluiceseq}); `partitionkey` follows it.
 */
export function encodeEnvelope(envelope: Envelope): string {
  let extensions = `,"partitionkey":${JSON.stringify(envelope.partitionkey)}`;
  if (envelope.sluiceseqkind !== undefined) extensions += `,"sluiceseqkind":"${envelope.sluiceseqkind}"`;
  if (envelope.traceparent !== undefined)
    extensions += `,"traceparent":${JSON.stringify(envelope.traceparent)}`;
  if (envelope.correlationid !== undefined)
    extensions += `,"correlationid":${JSON.stringify(envelope.correlationid)}`;
  if (envelope.causationid !== undefined)
    extensions += `,"causationid":${JSON.stringify(envelope.causationid)}`;
  if (envelope.sluicefact !== undefined) extensions += `,"sluicefact":${JSON.stringify(envelope.sluicefact)}`;
  if (envelope.sluicefactschemas !== undefined)
    extensions += `,"sluicefactschemas":${JSON.stringify(envelope.sluicefactschemas)}`;
  return (
    `{"specversion":"1.0","id":${JSON.stringify(envelope.id)},"source":${JSON.stringify(envelope.source)}` +
    `,"type":${JSON.stringify(envelope.type)},"time":${JSON.stringify(envelope.time)}` +
    `,"subject":${JSON.stringify(envelope.subject)},"datacontenttype":"application/json"` +
    `,"dataschema":${JSON.stringify(envelope.dataschema)},"sluiceseq":"${envelope.sluiceseq}"${extensions}` +
    `,"data":${JSON.stringify(envelope.data)}}`
  );
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes the CloudEvents JSON event format (a structured-mode record's value). Throws `MalformedEnvelopeError`
 * saying what is wrong. Also reads events written before Sluice had its own attributes: `sequence` (a String)
 * and `sequencekind` stand for `sluiceseq` and `sluiceseqkind`, and a missing `partitionkey` is the `subject`.
 */
export function decodeEnvelope(input: string | Uint8Array | null | undefined): Envelope {
  if (input === null || input === undefined) throw new MalformedEnvelopeError('the message has no value');
  let text: string;
  try {
    text = typeof input === 'string' ? input : decoder.decode(input);
  } catch (cause) {
    throw new MalformedEnvelopeError('the value is not valid UTF-8', { cause });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new MalformedEnvelopeError(`the value is not JSON (${truncate(text)})`, { cause });
  }
  const data =
    parsed !== null && typeof parsed === 'object' ? (parsed as { data?: unknown }).data : undefined;
  return checkAttributes(parsed, data);
}

/** Validates decoded attributes (from JSON or from transport headers) and builds the envelope. */
export function checkAttributes(raw: unknown, data: unknown): Envelope {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new MalformedEnvelopeError('the value is not a JSON object');
  }
  const o = raw as Record<string, unknown>;
  for (const name of REQUIRED) {
    if (typeof o[name] !== 'string' || (o[name] as string).length === 0) {
      throw new MalformedEnvelopeError(
        o[name] === undefined
          ? `required attribute "${name}" is missing`
          : `attribute "${name}" must be a non-empty string, got ${truncate(JSON.stringify(o[name]))}`,
      );
    }
  }
  if (o['specversion'] !== '1.0') {
    throw new MalformedEnvelopeError(`specversion must be "1.0", got ${JSON.stringify(o['specversion'])}`);
  }
  if (!isRfc3339(o['time'] as string)) {
    throw new MalformedEnvelopeError(
      `attribute "time" is not an RFC 3339 timestamp: ${JSON.stringify(o['time'])}`,
    );
  }
  // Events written before `sluiceseq` existed carry the number in `sequence`, the kind in `sequencekind`.
  const legacy = o['sluiceseq'] === undefined && o['sequence'] !== undefined;
  const seqName = legacy ? 'sequence' : 'sluiceseq';
  const seq = o[seqName];
  if (seq === undefined) throw new MalformedEnvelopeError('required attribute "sluiceseq" is missing');
  if (typeof seq !== 'string' || seq.length === 0) {
    throw new MalformedEnvelopeError(
      `attribute "${seqName}" must be a non-empty string, got ${truncate(JSON.stringify(seq))}`,
    );
  }
  if (!SEQUENCE.test(seq) || !Number.isSafeInteger(Number(seq))) {
    throw new MalformedEnvelopeError(
      `attribute "${seqName}" must be a positive decimal integer, got ${truncate(JSON.stringify(seq))}`,
    );
  }
  const partitionkey = o['partitionkey'] ?? o['subject'];
  if (typeof partitionkey !== 'string') {
    throw new MalformedEnvelopeError(
      `attribute "partitionkey" must be a string, got ${truncate(JSON.stringify(partitionkey))}`,
    );
  }
  const ct = o['datacontenttype'];
  if (ct !== undefined && ct !== 'application/json') {
    throw new MalformedEnvelopeError(`datacontenttype must be application/json, got ${JSON.stringify(ct)}`);
  }
  if (data === undefined) throw new MalformedEnvelopeError('the event has no "data"');
  const envelope: Record<string, unknown> = {
    specversion: '1.0',
    id: o['id'],
    source: o['source'],
    type: o['type'],
    time: o['time'],
    subject: o['subject'],
    datacontenttype: 'application/json',
    dataschema: o['dataschema'],
    partitionkey,
    sluiceseq: Number(seq),
  };
  const kindName = legacy ? 'sequencekind' : 'sluiceseqkind';
  const kind = o[kindName];
  if (kind !== undefined) {
    if (kind !== 'counter' && kind !== 'position') {
      throw new MalformedEnvelopeError(
        `attribute "${kindName}" must be "counter" or "position", got ${truncate(JSON.stringify(kind))}`,
      );
    }
    envelope['sluiceseqkind'] = kind;
  }
  for (const name of OPTIONAL) {
    const v = o[name];
    if (v === undefined) continue;
    if (typeof v !== 'string') throw new MalformedEnvelopeError(`attribute "${name}" must be a string`);
    envelope[name] = v;
  }
  envelope['data'] = data;
  return envelope as unknown as Envelope;
}

/**
 * A real RFC 3339 timestamp (`2024-06-30T12:34:56.789Z`, `T`/`Z` in either case, an offset up to 23:59):
 * calendar-valid date, hours 0-23, minutes and seconds 0-59. Read character by character: it runs for every
 * event consumed.
 */
function isRfc3339(t: string): boolean {
  const n = t.length;
  if (n < 20) return false;
  const y = digits2(t, 0) * 100 + digits2(t, 2);
  const mo = digits2(t, 5);
  const d = digits2(t, 8);
  const h = digits2(t, 11);
  const mi = digits2(t, 14);
  const s = digits2(t, 17);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h < 0 || h > 23) return false;
  if (mi < 0 || mi > 59 || s < 0 || s > 59) return false;
  const sep = t.charCodeAt(10);
  if (t.charCodeAt(4) !== 45 || t.charCodeAt(7) !== 45 || (sep !== 84 && sep !== 116)) return false;
  if (t.charCodeAt(13) !== 58 || t.charCodeAt(16) !== 58) return false;
  let i = 19;
  if (t.charCodeAt(i) === 46) {
    // fraction: at least one digit
    const first = ++i;
    while (i < n && isDigit(t.charCodeAt(i))) i++;
    if (i === first) return false;
  }
  const zone = t.charCodeAt(i);
  if (zone === 90 || zone === 122) return i + 1 === n;
  if (zone !== 43 && zone !== 45) return false;
  const oh = digits2(t, i + 1);
  const om = digits2(t, i + 4);
  return i + 6 === n && t.charCodeAt(i + 3) === 58 && oh >= 0 && oh <= 23 && om >= 0 && om <= 59;
}

/** The two-digit number at `t[i]`, or -1. */
function digits2(t: string, i: number): number {
  const a = t.charCodeAt(i);
  const b = t.charCodeAt(i + 1);
  return isDigit(a) && isDigit(b) ? (a - 48) * 10 + (b - 48) : -1;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
