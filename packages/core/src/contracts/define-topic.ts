import { InvalidOptionError } from '../errors.js';

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

const TOPIC_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
const DEFAULT_MESSAGE_RETENTION_MS = 24 * 60 * 60 * 1000;

export function defineTopic(options: {
  name: string;
  kind: TopicKind;
  partitions?: number;
  retentionMs?: number;
}): TopicSpec {
  const { name, kind } = options;
  if (!TOPIC_NAME.test(name)) {
    throw new InvalidOptionError(
      'defineTopic',
      'name',
      `must match ${TOPIC_NAME}, got ${JSON.stringify(name)}`,
    );
  }
  if (kind !== 'message' && kind !== 'event' && kind !== 'entity') {
    throw new InvalidOptionError(
      'defineTopic',
      'kind',
      `must be message, event or entity, got ${String(kind)}`,
    );
  }
  const partitions = options.partitions ?? 8;
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 4096) {
    throw new InvalidOptionError(
      'defineTopic',
      'partitions',
      `must be an integer from 1 to 4096, got ${partitions}`,
    );
  }
  if (options.retentionMs !== undefined && kind !== 'message') {
    throw new InvalidOptionError(
      'defineTopic',
      'retentionMs',
      `applies to message topics only (${name} is ${kind})`,
    );
  }
  const retentionMs = kind === 'message' ? (options.retentionMs ?? DEFAULT_MESSAGE_RETENTION_MS) : undefined;
  if (retentionMs !== undefined && (!Number.isFinite(retentionMs) || retentionMs <= 0)) {
    throw new InvalidOptionError(
      'defineTopic',
      'retentionMs',
      `must be a positive number, got ${retentionMs}`,
    );
  }
  return Object.freeze({
    name,
    kind,
    partitions,
    ...(retentionMs === undefined ? {} : { retentionMs }),
  });
}
