import { InvalidOptionError } from '../errors.js';
import { DEFAULT_MESSAGE_RETENTION_MS, validateTopicSpec } from '../transport/validate-topic-spec.js';

/**
 * What a topic keeps:
 * - `message`: just-in-time notifications; records expire after `retentionMs` (enforced). Consumers that need
 *   older state backfill from the source of truth.
 * - `event`: history kept; replay from any offset or time.
 * - `entity`: the latest value per key (compacted); a tombstone (null value) deletes the key.
 */
export type TopicKind = 'message' | 'event' | 'entity';

export interface TopicSpec {
  readonly name: string;
  readonly kind: TopicKind;
  /** Number of partitions; events of one key always land in the same partition. */
  readonly partitions: number;
  /** For `message` topics: how long records are kept. */
  readonly retentionMs?: number;
}

export function defineTopic(options: {
  name: string;
  kind: TopicKind;
  partitions?: number;
  retentionMs?: number;
}): TopicSpec {
  const { name, kind } = options;
  const partitions = options.partitions ?? 8;
  if (options.retentionMs !== undefined && kind !== 'message') {
    throw new InvalidOptionError(
      'defineTopic',
      'retentionMs',
      `applies to message topics only (${name} is ${kind})`,
    );
  }
  const retentionMs = kind === 'message' ? (options.retentionMs ?? DEFAULT_MESSAGE_RETENTION_MS) : undefined;
  validateTopicSpec(
    { name, kind, partitions, ...(retentionMs === undefined ? {} : { retentionMs }) },
    'defineTopic',
  );
  return Object.freeze({
    name,
    kind,
    partitions,
    ...(retentionMs === undefined ? {} : { retentionMs }),
  });
}
