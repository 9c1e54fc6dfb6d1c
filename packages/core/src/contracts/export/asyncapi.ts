import { STRUCTURED_CONTENT_TYPE } from '../../envelope/envelope.js';
import type { TransportConfig } from '../../transport/transport-config.js';
import type { EventContract } from '../define-event.js';
import { lockContract } from '../lock/build-lock.js';
import type { LockedContract } from '../lock/contracts-lock.js';
import { asyncApiServers } from './asyncapi-servers.js';
import { cloudEventSchema, keyValueSchema, transportHeadersSchema } from './cloudevent-schema.js';
import { embedSchema } from './embed-schema.js';
import { exampleOf } from './example-value.js';

/** What `toAsyncApi` needs besides the contracts. */
export interface AsyncApiOptions {
  /** `info.title`, e.g. the service's name. */
  readonly title: string;
  /** `info.version`: the version of this API description (e.g. the service's package version). */
  readonly version: string;
  readonly description?: string;
  /** The service's transports (`transports` of its config): one server each. None: no `servers`. */
  readonly servers?: Readonly<Record<string, TransportConfig | string>>;
}

/** An AsyncAPI 3.0.0 document (JSON). */
export type AsyncApiDocument = Record<string, unknown> & { readonly asyncapi: '3.0.0' };

const TOPIC_KIND_TEXT = {
  message:
    'message topic: records expire after its retention; consumers backfill older state from the source',
  event: 'event topic: history kept, replay from any offset or time',
  entity: 'entity topic: the latest event per key (compacted); a tombstone deletes the key',
} as const;

/**
 * The AsyncAPI 3.0.0 document of a service's contracts (code's `EventContract`s or a lock file's entries):
 * - a channel per topic, its address the topic name, with its partition key(s) in the description, a Kafka
 *   channel binding (partitions, cleanup policy, retention) and `x-sluice` (kind, partitions, retention, keys);
 * - a message per contract version (`<type>.v<N>`), its payload the CloudEvents 1.0 structured event whose
 *   `data` refers to the version's data schema (`components.schemas.<type>.v<N>`, JSON Schema draft 2020-12 as
 *   exported, without `$schema`), the transport headers, a Kafka message binding with the key, an example
 *   generated from the schema, and `x-sluice` (compatibility, classification, backfill, deprecation);
 * - a `send` operation per channel (the service publishes every message of its topics);
 * - a server per configured transport, when `servers` is given.
 * Channels, messages and schemas are sorted by name, so the same contracts always give the same document.
 */
export function toAsyncApi(
  contracts: Iterable<EventContract | LockedContract>,
  options: AsyncApiOptions,
): AsyncApiDocument {
  const locked = [...contracts]
    .map((c) => ('kind' in c && c.kind === 'sluice.event' ? lockContract(c) : (c as LockedContract)))
    .sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : a.version - b.version));
  const byTopic = new Map<string, LockedContract[]>();
  for (const c of locked) byTopic.set(c.topic.name, [...(byTopic.get(c.topic.name) ?? []), c]);
  const topics = [...byTopic.keys()].sort();

  const schemas: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  for (const c of locked) {
    const id = messageId(c);
    schemas[id] = embedSchema(c.schema, `#/components/schemas/${id}`);
    messages[id] = message(c, id);
  }
  for (const name of topics) {
    const members = byTopic.get(name)!;
    const topic = members[0]!.topic;
    const keys = distinctKeys(members);
    const ids = members.map(messageId);
    channels[name] = {
      address: name,
      title: `Topic ${name}`,
      description: channelDescription(topic, keys),
      messages: Object.fromEntries(ids.map((id) => [id, { $ref: `#/components/messages/${id}` }])),
      bindings: {
        kafka: {
          topic: name,
          partitions: topic.partitions,
          topicConfiguration: {
            'cleanup.policy': [topic.kind === 'entity' ? 'compact' : 'delete'],
            'retention.ms': topic.kind === 'message' ? (topic.retentionMs ?? -1) : -1,
          },
          bindingVersion: '0.5.0',
        },
      },
      'x-sluice': {
        kind: topic.kind,
        partitions: topic.partitions,
        ...(topic.retentionMs === undefined ? {} : { retentionMs: topic.retentionMs }),
        keys: keys.map((k) => ({ name: k.name, fields: k.fields, description: k.description })),
      },
    };
    operations[`send-${name}`] = {
      action: 'send',
      title: `Publish to ${name}`,
      summary: `The service publishes ${ids.join(', ')} to topic ${name}, in order per key.`,
      channel: { $ref: `#/channels/${name}` },
      messages: ids.map((id) => ({ $ref: `#/channels/${name}/messages/${id}` })),
    };
  }
  const servers = options.servers === undefined ? undefined : asyncApiServers(options.servers);
  return {
    asyncapi: '3.0.0',
    info: {
      title: options.title,
      version: options.version,
      ...(options.description === undefined ? {} : { description: options.description }),
    },
    defaultContentType: STRUCTURED_CONTENT_TYPE,
    ...(servers === undefined || Object.keys(servers).length === 0 ? {} : { servers }),
    channels,
    operations,
    components: { schemas, messages },
  };
}

/** The component name of a contract version: `<type>.v<N>`. */
export function messageId(c: { readonly type: string; readonly version: number }): string {
  return `${c.type}.v${c.version}`;
}

function message(c: LockedContract, id: string): Record<string, unknown> {
  const dataRef = { $ref: `#/components/schemas/${id}` };
  const example = {
    specversion: '1.0',
    id: '0193f1a2-7c4e-7d10-8a3b-5c6d7e8f9a0b',
    source: 'urn:service:example',
    type: c.type,
    time: '2026-12-07T09:30:00.000Z',
    subject: '',
    datacontenttype: 'application/json',
    dataschema: c.dataschema,
    partitionkey: '',
    sluiceseq: '1',
    sluiceseqkind: 'counter',
    data: exampleOf(c.schema),
  };
  const key = String((example.data as Record<string, unknown>)[c.key.field] ?? '');
  example.subject = key;
  example.partitionkey = key;
  const dep = c.deprecated;
  return {
    name: c.type,
    title: `${c.type} v${c.version}`,
    summary: c.description,
    description: [
      c.description,
      `Key: ${c.key.name} (data field \`${c.key.field}\`). Compatibility: ${c.compatibility}.`,
      c.backfill ? 'Consumers may request a backfill.' : 'Consumers may not request a backfill.',
      dep === undefined
        ? undefined
        : `Deprecated since ${dep.since}${dep.replacedBy === undefined ? '' : `: use v${dep.replacedBy}`}${dep.reason === undefined ? '' : ` (${dep.reason})`}.`,
      Object.keys(c.classification).length === 0
        ? undefined
        : `Classified fields: ${Object.entries(c.classification)
            .map(([p, k]) => `${p} (${k})`)
            .join(', ')}.`,
    ]
      .filter(Boolean)
      .join(' '),
    contentType: STRUCTURED_CONTENT_TYPE,
    headers: transportHeadersSchema(),
    payload: cloudEventSchema(c, dataRef),
    correlationId: {
      description: 'the business operation the event belongs to',
      location: '$message.payload#/correlationid',
    },
    ...(dep === undefined ? {} : { deprecated: true }),
    examples: [{ name: `${id}-example`, summary: 'generated from the schema', payload: example }],
    bindings: {
      kafka: {
        key: { ...keyValueSchema(c), description: `the partition key: ${c.key.name}` },
        bindingVersion: '0.5.0',
      },
    },
    'x-sluice': {
      type: c.type,
      version: c.version,
      dataschema: c.dataschema,
      key: { name: c.key.name, field: c.key.field, description: c.key.description },
      compatibility: c.compatibility,
      classification: c.classification,
      backfill: c.backfill,
      ...(dep === undefined ? {} : { deprecated: dep }),
    },
  };
}

interface TopicKey {
  readonly name: string;
  readonly description: string;
  readonly fields: string[];
}

function distinctKeys(members: readonly LockedContract[]): TopicKey[] {
  const keys = new Map<string, TopicKey>();
  for (const c of members) {
    const k = keys.get(c.key.name) ?? { name: c.key.name, description: c.key.description, fields: [] };
    if (!k.fields.includes(c.key.field)) k.fields.push(c.key.field);
    keys.set(c.key.name, k);
  }
  return [...keys.values()];
}

function channelDescription(topic: LockedContract['topic'], keys: readonly TopicKey[]): string {
  const retention =
    topic.kind === 'message' && topic.retentionMs !== undefined ? ` Retention: ${topic.retentionMs} ms.` : '';
  const keyText = keys
    .map((k) => `\`${k.name}\` (${k.description}; data field ${k.fields.map((f) => `\`${f}\``).join(', ')})`)
    .join(', ');
  return (
    `Sluice ${TOPIC_KIND_TEXT[topic.kind]}. ${topic.partitions} partitions.${retention} ` +
    `Partition key: ${keyText}: the CloudEvents \`subject\` and \`partitionkey\` (the Kafka record key); ` +
    'the events of one key keep their order.'
  );
}
