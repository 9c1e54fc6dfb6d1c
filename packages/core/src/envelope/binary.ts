import { MalformedEnvelopeError } from '../errors.js';
import { checkAttributes } from './codec.js';
import type { Envelope } from './envelope.js';

/** Transport headers of an event in CloudEvents binary mode, and its body (the JSON data). */
export interface BinaryMessage {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * Encodes an envelope in CloudEvents binary mode: each attribute becomes a header named `prefix + attribute`
 * (the Kafka binding uses `ce_`, the NATS and HTTP bindings `ce-`), `content-type` carries
 * `datacontenttype`, and the body is the JSON data. Sluice's transports write structured mode (see
 * docs/cloudevents.md); this is for bridges to systems that want binary mode. The Kafka binding also maps
 * `partitionkey` to the record key: the caller sets the key.
 */
export function toBinary(envelope: Envelope, prefix = 'ce_'): BinaryMessage {
  const headers: Record<string, string> = {
    [`${prefix}specversion`]: '1.0',
    [`${prefix}id`]: envelope.id,
    [`${prefix}source`]: envelope.source,
    [`${prefix}type`]: envelope.type,
    [`${prefix}time`]: envelope.time,
    [`${prefix}subject`]: envelope.subject,
    [`${prefix}dataschema`]: envelope.dataschema,
    [`${prefix}partitionkey`]: envelope.partitionkey,
    [`${prefix}sluiceseq`]: String(envelope.sluiceseq),
    'content-type': 'application/json',
  };
  if (envelope.sluiceseqkind !== undefined) headers[`${prefix}sluiceseqkind`] = envelope.sluiceseqkind;
  if (envelope.traceparent !== undefined) headers[`${prefix}traceparent`] = envelope.traceparent;
  if (envelope.correlationid !== undefined) headers[`${prefix}correlationid`] = envelope.correlationid;
  if (envelope.causationid !== undefined) headers[`${prefix}causationid`] = envelope.causationid;
  if (envelope.sluicefact !== undefined) headers[`${prefix}sluicefact`] = envelope.sluicefact;
  if (envelope.sluicefactschemas !== undefined)
    headers[`${prefix}sluicefactschemas`] = envelope.sluicefactschemas;
  return { headers, body: JSON.stringify(envelope.data) };
}

/** Decodes CloudEvents binary mode. Header names are matched case-insensitively. */
export function fromBinary(
  headers: Readonly<Record<string, string>>,
  body: string,
  prefix = 'ce_',
): Envelope {
  const attributes: Record<string, string> = {};
  const p = prefix.toLowerCase();
  let contentType: string | undefined;
  for (const [name, value] of Object.entries(headers)) {
    const n = name.toLowerCase();
    if (n === 'content-type') contentType = value;
    else if (n.startsWith(p)) attributes[n.slice(p.length)] = value;
  }
  if (contentType !== undefined && !contentType.startsWith('application/json')) {
    throw new MalformedEnvelopeError(
      `content-type must be application/json, got ${JSON.stringify(contentType)}`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch (cause) {
    throw new MalformedEnvelopeError('the body is not JSON', { cause });
  }
  return checkAttributes({ ...attributes, datacontenttype: 'application/json' }, data);
}
