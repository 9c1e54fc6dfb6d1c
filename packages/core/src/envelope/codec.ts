import { MalformedEnvelopeError } from '../errors.js';
import type { Envelope } from './envelope.js';

/** CloudEvents attributes in wire order (structured mode). */
const REQUIRED = [
  'specversion',
  'id',
  'source',
  'type',
  'time',
  'subject',
  'dataschema',
  'sequence',
] as const;
const OPTIONAL = ['traceparent', 'correlationid', 'causationid'] as const;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:Z|[+-](\d{2}):(\d{2}))$/i;
const SEQUENCE = /^[1-9]\d{0,15}$/;

/**
 * Encodes an envelope in CloudEvents JSON structured mode (`application/cloudevents+json`). `sequence` is a
 * string attribute, as the CloudEvents sequence extension defines it.
 */
export function encodeEnvelope(envelope: Envelope): string {
  let extensions = '';
  if (envelope.traceparent !== undefined)
    extensions += `,"traceparent":${JSON.stringify(envelope.traceparent)}`;
  if (envelope.correlationid !== undefined)
    extensions += `,"correlationid":${JSON.stringify(envelope.correlationid)}`;
  if (envelope.causationid !== undefined)
    extensions += `,"causationid":${JSON.stringify(envelope.causationid)}`;
  return (
    `{"specversion":"1.0","id":${JSON.stringify(envelope.id)},"source":${JSON.stringify(envelope.source)}` +
    `,"type":${JSON.stringify(envelope.type)},"time":${JSON.stringify(envelope.time)}` +
    `,"subject":${JSON.stringify(envelope.subject)},"datacontenttype":"application/json"` +
    `,"dataschema":${JSON.stringify(envelope.dataschema)},"sequence":"${envelope.sequence}"${extensions}` +
    `,"data":${JSON.stringify(envelope.data)}}`
  );
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Decodes CloudEvents JSON structured mode. Throws `MalformedEnvelopeError` saying what is wrong. */
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
  if (!SEQUENCE.test(o['sequence'] as string) || !Number.isSafeInteger(Number(o['sequence']))) {
    throw new MalformedEnvelopeError(
      `attribute "sequence" must be a positive decimal integer, got ${JSON.stringify(o['sequence'])}`,
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
    sequence: Number(o['sequence']),
  };
  for (const name of OPTIONAL) {
    const v = o[name];
    if (v === undefined) continue;
    if (typeof v !== 'string') throw new MalformedEnvelopeError(`attribute "${name}" must be a string`);
    envelope[name] = v;
  }
  envelope['data'] = data;
  return envelope as unknown as Envelope;
}

/** A real RFC 3339 timestamp: calendar-valid date, hours 0-23, minutes and seconds 0-59, offset up to 23:59. */
function isRfc3339(text: string): boolean {
  const m = RFC3339.exec(text);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > new Date(Date.UTC(y, mo, 0)).getUTCDate()) return false;
  if (h > 23 || mi > 59 || s > 59) return false;
  if (m[7] !== undefined && (Number(m[7]) > 23 || Number(m[8]) > 59)) return false;
  return true;
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
