import type { ResolvedKafkaOptions } from './kafka-options.js';

/**
 * librdkafka consumer settings shared by group members, ephemeral readers and `read()`. Prefetching is kept
 * modest: librdkafka fetches ahead in its background threads into the client's local queue, up to
 * `queued.min.messages` (500) per partition and at most `queued.max.messages.kbytes` (1 MiB) for the whole
 * client; `poll` drains that queue, at most `maxRecords` at a time. `fetch.wait.max.ms=10` makes a fetch return
 * soon after a record arrives, so a waiting poll wakes promptly. Offsets are committed only by `commit`
 * (`enable.auto.commit=false`, `enable.auto.offset.store=false`).
 */
export function consumerConfig(
  options: ResolvedKafkaOptions,
  groupId: string,
  extra: Record<string, string | number | boolean> = {},
): Record<string, string | number | boolean> {
  return {
    'bootstrap.servers': options.brokers.join(','),
    'client.id': options.clientId,
    'group.id': groupId,
    'enable.auto.commit': false,
    'enable.auto.offset.store': false,
    'enable.partition.eof': false,
    'fetch.wait.max.ms': 10,
    'fetch.min.bytes': 1,
    'fetch.max.bytes': 4 * 1024 * 1024,
    'max.partition.fetch.bytes': 1024 * 1024 + 64 * 1024,
    'queued.max.messages.kbytes': 1024,
    'queued.min.messages': 500,
    'socket.nagle.disable': true,
    'topic.metadata.refresh.interval.ms': 10_000,
    'reconnect.backoff.ms': 50,
    'reconnect.backoff.max.ms': 1000,
    log_level: 0,
    ...extra,
  };
}
