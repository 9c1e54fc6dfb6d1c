import type { TopicKind, TopicSpec } from '@sluice/core';
import type { TopicConfigs } from './kafka-describe-configs.js';
import type { ResolvedKafkaOptions } from './kafka-options.js';

/** What the transport knows of a topic: its Kafka name, kind, partition count and (message) retention. */
export interface KafkaTopic {
  readonly name: string;
  readonly kafkaName: string;
  readonly kind: TopicKind;
  readonly partitions: number;
  /** For `message` topics: records older than this are never delivered or read. */
  readonly retentionMs: number | undefined;
}

/**
 * The topic configuration of each kind. Every topic stamps records with the broker's clock
 * (`message.timestamp.type=LogAppendTime`), so `ConsumedRecord.timestamp` is when the broker stored the record
 * and seeking by time uses one clock.
 * - `event`: `retention.ms=-1`, history kept forever.
 * - `message`: `retention.ms` of the spec; the broker deletes whole segments once their newest record expired
 *   (`segment.ms` at most the retention, at least a minute), so the transport also filters by timestamp.
 * - `entity`: `cleanup.policy=compact`, a low `min.cleanable.dirty.ratio` and short `segment.ms` so the
 *   cleaner runs soon, `delete.retention.ms` for tombstones; readers also de-duplicate, as compaction is
 *   eventual.
 */
export function topicConfig(spec: TopicSpec, options: ResolvedKafkaOptions): Record<string, string> {
  const common = { 'message.timestamp.type': 'LogAppendTime' };
  if (spec.kind === 'entity') {
    return {
      ...common,
      'cleanup.policy': 'compact',
      'min.cleanable.dirty.ratio': '0.01',
      'segment.ms': '60000',
      'delete.retention.ms': String(options.tombstoneRetentionMs),
      'retention.ms': '-1',
    };
  }
  if (spec.kind === 'message') {
    const retentionMs = spec.retentionMs ?? 24 * 60 * 60 * 1000;
    return {
      ...common,
      'cleanup.policy': 'delete',
      'retention.ms': String(retentionMs),
      'segment.ms': String(Math.min(Math.max(retentionMs, 60_000), 7 * 24 * 60 * 60 * 1000)),
    };
  }
  return { ...common, 'cleanup.policy': 'delete', 'retention.ms': '-1' };
}

/** The kind (and retention) a topic's configuration says: compacted is `entity`, finite retention `message`. */
export function kindOf(configs: TopicConfigs): { kind: TopicKind; retentionMs: number | undefined } {
  const policy = configs.get('cleanup.policy') ?? 'delete';
  if (policy.includes('compact')) return { kind: 'entity', retentionMs: undefined };
  const retention = Number(configs.get('retention.ms') ?? '-1');
  if (Number.isFinite(retention) && retention >= 0) return { kind: 'message', retentionMs: retention };
  return { kind: 'event', retentionMs: undefined };
}
