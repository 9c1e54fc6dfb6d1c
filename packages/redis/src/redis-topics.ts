import type { RedisClientType } from '@redis/client';
import type { TopicKind, TopicSpec } from '@sluice/core';
import { DEFAULT_MESSAGE_RETENTION_MS, validateTopicSpec } from '@sluice/core/adapter';
import { brokerError, topicMismatchError, unknownTopicError } from './redis-errors.js';
import type { RedisKeys } from './redis-keys.js';
import { hashEntries } from './redis-replies.js';
import { ENSURE_TOPIC_SCRIPT } from './redis-scripts.js';

/** A topic as the transport stores it. */
export interface RedisTopic {
  readonly name: string;
  readonly kind: TopicKind;
  readonly partitions: number;
  /** For message topics; `null` otherwise. */
  readonly retentionMs: number | null;
}

/** The redis client type the transport uses (RESP2, raw replies through `sendCommand`). */
export type RedisClient = RedisClientType;

/**
 * Topic metadata in `<prefix>:topic:<name>` hashes, cached once found (a topic never changes kind or
 * partition count; a changed retention is picked up by `ensureTopic`).
 */
export class RedisTopics {
  readonly #client: RedisClient;
  readonly #keys: RedisKeys;
  readonly #cache = new Map<string, RedisTopic>();

  constructor(client: RedisClient, keys: RedisKeys) {
    this.#client = client;
    this.#keys = keys;
  }

  /** Creates the topic, or checks that it exists with the same kind and partition count. */
  async ensure(spec: TopicSpec): Promise<void> {
    const wanted = validateSpec(spec);
    const key = this.#keys.topic(wanted.name);
    let existing: [string, string][];
    try {
      existing = hashEntries(
        await this.#client.sendCommand([
          'EVAL',
          ENSURE_TOPIC_SCRIPT,
          '2',
          key,
          this.#keys.topicNames(),
          wanted.kind,
          String(wanted.partitions),
          wanted.retentionMs === null ? '' : String(wanted.retentionMs),
          wanted.name,
        ]),
      );
    } catch (cause) {
      throw brokerError(`ensureTopic(${wanted.name})`, cause);
    }
    if (existing.length > 0) {
      const found = toTopic(wanted.name, existing);
      if (found.kind !== wanted.kind || found.partitions !== wanted.partitions) {
        throw topicMismatchError(wanted.name, found, wanted);
      }
      if (found.retentionMs !== wanted.retentionMs && wanted.retentionMs !== null) {
        try {
          await this.#client.sendCommand(['HSET', key, 'retentionMs', String(wanted.retentionMs)]);
        } catch (cause) {
          throw brokerError(`ensureTopic(${wanted.name})`, cause);
        }
      }
    }
    this.#cache.set(wanted.name, wanted);
  }

  /** The topic, from the cache or the server; `undefined` if it does not exist. */
  async find(name: string): Promise<RedisTopic | undefined> {
    const cached = this.#cache.get(name);
    if (cached !== undefined) return cached;
    let fields: [string, string][];
    try {
      fields = hashEntries(await this.#client.sendCommand(['HGETALL', this.#keys.topic(name)]));
    } catch (cause) {
      throw brokerError(`reading topic ${name}`, cause);
    }
    if (fields.length === 0) return undefined;
    const topic = toTopic(name, fields);
    this.#cache.set(name, topic);
    return topic;
  }

  /** The topic, or a `SLUICE_UNKNOWN_TOPIC` error. */
  async get(name: string): Promise<RedisTopic> {
    const topic = await this.find(name);
    if (topic === undefined) throw unknownTopicError(name);
    return topic;
  }

  /** Every topic on the server. */
  async all(): Promise<RedisTopic[]> {
    let names: string[];
    try {
      names = (await this.#client.sendCommand(['SMEMBERS', this.#keys.topicNames()])) as string[];
    } catch (cause) {
      throw brokerError('listing topics', cause);
    }
    const topics: RedisTopic[] = [];
    for (const name of names) {
      const topic = await this.find(name);
      if (topic !== undefined) topics.push(topic);
    }
    return topics;
  }

  /** The cached topic, if known. */
  cached(name: string): RedisTopic | undefined {
    return this.#cache.get(name);
  }
}

function toTopic(name: string, fields: readonly [string, string][]): RedisTopic {
  const map = new Map(fields);
  const kind = map.get('kind') as TopicKind;
  const retention = map.get('retentionMs');
  return {
    name,
    kind,
    partitions: Number(map.get('partitions')),
    retentionMs:
      kind === 'message'
        ? retention === undefined || retention === ''
          ? DEFAULT_MESSAGE_RETENTION_MS
          : Number(retention)
        : null,
  };
}

function validateSpec(spec: TopicSpec): RedisTopic {
  validateTopicSpec(spec);
  const retention = spec.kind === 'message' ? (spec.retentionMs ?? DEFAULT_MESSAGE_RETENTION_MS) : null;
  return {
    name: spec.name,
    kind: spec.kind,
    partitions: spec.partitions,
    retentionMs: retention === null ? null : Math.ceil(retention),
  };
}
