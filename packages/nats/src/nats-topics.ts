import {
  DiscardPolicy,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import type { TopicKind, TopicSpec } from '@sluice/core';
import { validateTopicSpec } from '@sluice/core/adapter';
import { NATS_NAME, natsError, topicMismatchError, unknownTopicError } from './nats-errors.js';
import { waitForLeader } from './nats-groups.js';
import type { NatsNames } from './nats-names.js';

/** A topic as this transport knows it. */
export interface NatsTopic {
  readonly name: string;
  readonly kind: TopicKind;
  readonly partitions: number;
  readonly retentionMs: number | undefined;
  readonly stream: string;
  readonly entity: boolean;
}

const DESCRIPTION_PREFIX = 'sluice topic ';

/** The JetStream stream of one topic: its kind and partition count live in the stream's description. */
export function topicStreamConfig(
  spec: TopicSpec,
  names: NatsNames,
  replicas: number,
): Partial<StreamConfig> & { name: string } {
  const retentionMs = spec.kind === 'message' ? spec.retentionMs : undefined;
  return {
    name: names.topicStream(spec.name),
    subjects: [names.topicFilter(spec.name)],
    description: `${DESCRIPTION_PREFIX}${JSON.stringify({ topic: spec.name, kind: spec.kind, partitions: spec.partitions, ...(retentionMs === undefined ? {} : { retentionMs }) })}`,
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    num_replicas: replicas,
    // The latest record per key subject (`<topic>.<partition>.<key>`) on entity topics.
    max_msgs_per_subject: spec.kind === 'entity' ? 1 : -1,
    max_age: retentionMs === undefined ? 0 : retentionMs * 1_000_000,
    // Nats-Msg-Id de-duplication window (capped by max_age on message topics).
    duplicate_window: Math.min(120_000, retentionMs ?? 120_000) * 1_000_000,
    allow_direct: false,
  };
}

/** Topics of one transport: created on `ensure`, looked up (and cached) from their stream otherwise. */
export class NatsTopics {
  readonly #jsm: JetStreamManager;
  readonly #names: NatsNames;
  readonly #replicas: number;
  readonly #known = new Map<string, NatsTopic>();

  constructor(jsm: JetStreamManager, names: NatsNames, replicas: number) {
    this.#jsm = jsm;
    this.#names = names;
    this.#replicas = replicas;
  }

  async ensure(spec: TopicSpec): Promise<void> {
    validateTopicSpec(spec);
    let existing = await this.#lookup(spec.name);
    if (existing === undefined) {
      try {
        await this.#jsm.streams.add(topicStreamConfig(spec, this.#names, this.#replicas));
        await waitForLeader(this.#jsm, this.#names.topicStream(spec.name), 10_000);
      } catch (error) {
        // Created concurrently by another client: compare with what it created.
        existing = await this.#lookup(spec.name);
        if (existing === undefined) throw natsError(`creating the stream of topic ${spec.name}`, error);
      }
    }
    if (existing !== undefined && (existing.kind !== spec.kind || existing.partitions !== spec.partitions)) {
      throw topicMismatchError(spec.name, existing, spec);
    }
    if (existing === undefined) this.#known.set(spec.name, toTopic(spec, this.#names));
  }

  /** The topic, or `SLUICE_UNKNOWN_TOPIC`. */
  async get(name: string): Promise<NatsTopic> {
    const topic = this.#known.get(name) ?? (await this.#lookup(name));
    if (topic === undefined) throw unknownTopicError(name);
    return topic;
  }

  /** The entity topics this transport used so far. */
  entityTopics(): NatsTopic[] {
    return [...this.#known.values()].filter((t) => t.entity);
  }

  /** Forgets a cached topic (its stream may have been deleted). */
  forget(name: string): void {
    this.#known.delete(name);
  }

  async #lookup(name: string): Promise<NatsTopic | undefined> {
    if (typeof name !== 'string') throw unknownTopicError(String(name));
    const cached = this.#known.get(name);
    if (cached !== undefined) return cached;
    let description: string | undefined;
    try {
      description = (await this.#jsm.streams.info(this.#names.topicStream(name))).config.description;
    } catch (error) {
      if ((error as { code?: unknown }).code === 10059) return undefined;
      throw natsError(`reading the stream of topic ${name}`, error);
    }
    if (description === undefined || !description.startsWith(DESCRIPTION_PREFIX)) {
      throw natsError(
        `reading topic ${name}`,
        new Error(`stream ${this.#names.topicStream(name)} was not created by ${NATS_NAME}`),
      );
    }
    const meta = JSON.parse(description.slice(DESCRIPTION_PREFIX.length)) as {
      kind: TopicKind;
      partitions: number;
      retentionMs?: number;
    };
    const topic = toTopic({ name, ...meta }, this.#names);
    this.#known.set(name, topic);
    return topic;
  }
}

function toTopic(spec: TopicSpec, names: NatsNames): NatsTopic {
  return Object.freeze({
    name: spec.name,
    kind: spec.kind,
    partitions: spec.partitions,
    retentionMs: spec.kind === 'message' ? spec.retentionMs : undefined,
    stream: names.topicStream(spec.name),
    entity: spec.kind === 'entity',
  });
}
