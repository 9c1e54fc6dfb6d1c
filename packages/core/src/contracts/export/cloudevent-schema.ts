import { STRUCTURED_CONTENT_TYPE } from '../../envelope/envelope.js';
import type { LockedContract } from '../lock/contracts-lock.js';

type Schema = Record<string, unknown>;

/**
 * The JSON Schema of one contract version's events as they travel: a CloudEvents 1.0 event in structured
 * content mode (docs/cloudevents.md), the attributes beside `data`, whose schema is `data` (usually a `$ref` to
 * the data schema). Required: what every event Sluice writes carries; `sluiceseqkind` and the tracing
 * extensions are optional.
 */
export function cloudEventSchema(contract: LockedContract, data: Schema): Schema {
  const key = contract.key;
  const keyText = `the event's key: its ${key.name} (data field \`${key.field}\`; ${key.description})`;
  return {
    type: 'object',
    title: `${contract.type} v${contract.version} (CloudEvents 1.0, structured mode)`,
    description: `A CloudEvents 1.0 event in structured content mode: the attributes and \`data\` in one JSON object (docs/cloudevents.md). ${contract.description}`,
    required: [
      'specversion',
      'id',
      'source',
      'type',
      'time',
      'subject',
      'datacontenttype',
      'dataschema',
      'partitionkey',
      'sluiceseq',
      'data',
    ],
    properties: {
      specversion: { type: 'string', const: '1.0', description: 'CloudEvents version' },
      id: {
        type: 'string',
        format: 'uuid',
        description: "UUIDv7, unique per event; consumers' inboxes deduplicate on it",
      },
      source: {
        type: 'string',
        format: 'uri-reference',
        description: 'the producing service, e.g. urn:service:enrollments',
      },
      type: { type: 'string', const: contract.type, description: 'the contract type' },
      time: {
        type: 'string',
        format: 'date-time',
        description: 'when the event was appended (RFC 3339, UTC)',
      },
      subject: { ...keyValueSchema(contract), description: keyText },
      datacontenttype: { type: 'string', const: 'application/json' },
      dataschema: {
        type: 'string',
        format: 'uri',
        const: contract.dataschema,
        description: 'the contract and its major version',
      },
      partitionkey: {
        ...keyValueSchema(contract),
        description: `CloudEvents Partitioning extension: ${keyText}; the Kafka record key`,
      },
      sluiceseq: {
        type: 'string',
        pattern: '^[1-9][0-9]{0,15}$',
        description:
          "Sluice's extension: the event's place in its key's order, a positive decimal integer (at most 2^53 - 1)",
      },
      sluiceseqkind: {
        type: 'string',
        enum: ['counter', 'position'],
        description:
          "Sluice's extension: `counter` (outbox appends, 1, 2, 3, ... per key without gaps) or `position` (change data capture and backfills: commit positions, order only)",
      },
      traceparent: {
        type: 'string',
        pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$',
        description: 'Distributed Tracing extension: W3C trace context of the producing operation',
      },
      correlationid: { type: 'string', description: 'id shared by every event of one business operation' },
      causationid: { type: 'string', description: 'id of the event or command that caused this one' },
      sluicefact: {
        type: 'string',
        description:
          "Sluice's extension: set when one business fact was published as several versions during a migration (`appendVersions`); the same id on each of them, so a consumer applies the fact once",
      },
      sluicefactschemas: {
        type: 'string',
        description:
          "Sluice's extension: with `sluicefact`, the `dataschema` of every version the fact was published as, space-separated, oldest first",
      },
      data,
    },
  };
}

/**
 * The transport headers Sluice writes beside a structured event (which depend on the transport; Redis Streams
 * and the embedded log have none): the structured mode's content type, and the event id and key where the
 * binding carries them as headers.
 */
export function transportHeadersSchema(): Schema {
  return {
    type: 'object',
    description:
      'Headers Sluice writes beside the event on Kafka and NATS (Redis Streams and the embedded log carry none; docs/cloudevents.md). The CloudEvents attributes themselves are in the payload (structured content mode).',
    properties: {
      'content-type': {
        type: 'string',
        const: STRUCTURED_CONTENT_TYPE,
        description: 'the CloudEvents structured mode media type (Kafka and NATS bindings)',
      },
      'sluice.id': { type: 'string', description: 'Kafka: the event id' },
      'Nats-Msg-Id': { type: 'string', description: "NATS: the event id (JetStream's de-duplication)" },
      'Sluice-Key': { type: 'string', description: 'NATS: the key, URI-encoded' },
    },
  };
}

/** The key as a CloudEvents String: the key type's own schema when its values are strings, else any string. */
export function keyValueSchema(contract: LockedContract): Schema {
  const s = contract.key.schema;
  if (s['type'] !== 'string') return { type: 'string' };
  const out: Schema = { type: 'string' };
  for (const k of ['format', 'pattern', 'minLength', 'maxLength', 'enum']) if (k in s) out[k] = s[k];
  return out;
}
