import { InvalidOptionError } from '@sluice/core';
import { integerOption } from '@sluice/core/adapter';

/**
 * Options of {@link createKafkaTransport}. Only `url` is required.
 *
 * Producer settings are fixed, not options: idempotent, `acks=all`, one produce request in flight per partition
 * (`@platformatic/kafka` advances a partition's sequence numbers only when a response arrives), retried with the
 * same sequence numbers, so an acknowledged record is in every in-sync replica and records of one key are stored
 * in the order they were published.
 */
export interface KafkaTransportOptions {
  /** The brokers: `kafka://host:port`, several separated by commas (`kafka://a:9092,b:9092`). */
  readonly url: string;
  /**
   * Prefixes every topic (`<namespace>.<topic>`) and consumer group (`<namespace>.<group>`) this transport
   * uses, so several environments (or test cases) share one cluster without seeing each other's records.
   * `[A-Za-z0-9._-]`, 1 to 48 characters. Default: none (topics and groups are named as given).
   */
  readonly namespace?: string;
  /** Replication factor of the topics `ensureTopic` creates: 1 on a single broker, 3 in production. Default 1. */
  readonly replicationFactor?: number;
  /** Consumer `session.timeout.ms`: a member silent this long is dead. The broker bounds it (`group.min.session.timeout.ms`, default 6000). Default 10000. */
  readonly sessionTimeoutMs?: number;
  /**
   * Consumer `heartbeat.interval.ms`. In the classic group protocol the other members learn of a rebalance
   * (a member joined, left or died) from a heartbeat response, so this bounds how soon they react. Default a
   * third of `sessionTimeoutMs`, at most 1000 ms.
   */
  readonly heartbeatIntervalMs?: number;
  /**
   * Largest record accepted (value, key and headers, in bytes). Default 1000000: Kafka's default
   * `message.max.bytes` (1 MiB + 12) less room for the record batch overhead.
   */
  readonly maxPayloadBytes?: number;
  /** How long a publish may wait for the broker. Default 30000 ms. */
  readonly deliveryTimeoutMs?: number;
  /** How long admin and metadata requests may take. Default 10000 ms. */
  readonly requestTimeoutMs?: number;
  /** `delete.retention.ms` of entity topics: how long a tombstone stays readable after compaction. Default 24 h. */
  readonly tombstoneRetentionMs?: number;
  /**
   * A member that closes does not leave its group: it stops heartbeating, so its partitions move only after
   * `sessionTimeoutMs`. (Not KIP-345 static membership: `@platformatic/kafka` 1.22 sends no
   * `group.instance.id`, so a restarted member joins as a new one.) Default false: closing leaves at once.
   */
  readonly staticMembership?: boolean;
  /** Client id shown in the broker's logs and metrics. Default `sluice`. */
  readonly clientId?: string;
}

/** {@link KafkaTransportOptions} with every default applied; frozen. */
export interface ResolvedKafkaOptions {
  readonly brokers: readonly string[];
  readonly namespace: string | undefined;
  readonly replicationFactor: number;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly maxPayloadBytes: number;
  readonly deliveryTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly tombstoneRetentionMs: number;
  readonly staticMembership: boolean;
  readonly clientId: string;
}

const COMPONENT = 'createKafkaTransport';

/** Applies defaults and validates `options`, naming the offending field. */
export function resolveKafkaOptions(options: KafkaTransportOptions): ResolvedKafkaOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError(COMPONENT, 'options', 'must be an object with at least `url`');
  }
  const badUrl = (got: unknown) =>
    new InvalidOptionError(
      COMPONENT,
      'url',
      `must be a kafka://host:port URL (several separated by commas), got ${JSON.stringify(got)}`,
    );
  if (typeof options.url !== 'string' || options.url.trim() === '') throw badUrl(options.url);
  const brokers = options.url
    .replace(/^kafka:\/\//i, '')
    .split(',')
    .map((s) =>
      s
        .trim()
        .replace(/^kafka:\/\//i, '')
        .replace(/\/$/, ''),
    )
    .filter((s) => s !== '');
  if (brokers.length === 0) throw badUrl(options.url);
  for (const broker of brokers) if (!/^[^\s:/,]+:\d{1,5}$/.test(broker)) throw badUrl(broker);
  const namespace = options.namespace;
  if (
    namespace !== undefined &&
    (typeof namespace !== 'string' || !/^[A-Za-z0-9._-]{1,48}$/.test(namespace))
  ) {
    throw new InvalidOptionError(
      COMPONENT,
      'namespace',
      `must be 1 to 48 characters of [A-Za-z0-9._-], got ${JSON.stringify(namespace)}`,
    );
  }
  const sessionTimeoutMs = integer('sessionTimeoutMs', options.sessionTimeoutMs, 10_000, 100, 3_600_000);
  const heartbeatIntervalMs = integer(
    'heartbeatIntervalMs',
    options.heartbeatIntervalMs,
    Math.max(10, Math.min(1000, Math.floor(sessionTimeoutMs / 3))),
    10,
    3_600_000,
  );
  if (heartbeatIntervalMs >= sessionTimeoutMs) {
    throw new InvalidOptionError(
      COMPONENT,
      'heartbeatIntervalMs',
      `must be less than sessionTimeoutMs (${sessionTimeoutMs}), got ${heartbeatIntervalMs}; a third of it is a good value`,
    );
  }
  const staticMembership = options.staticMembership ?? false;
  if (typeof staticMembership !== 'boolean') {
    throw new InvalidOptionError(
      COMPONENT,
      'staticMembership',
      `must be a boolean, got ${String(staticMembership)}`,
    );
  }
  const clientId = options.clientId ?? 'sluice';
  if (typeof clientId !== 'string' || clientId === '') {
    throw new InvalidOptionError(
      COMPONENT,
      'clientId',
      `must be a non-empty string, got ${JSON.stringify(clientId)}`,
    );
  }
  return Object.freeze({
    brokers: Object.freeze(brokers),
    namespace,
    replicationFactor: integer('replicationFactor', options.replicationFactor, 1, 1, 16),
    sessionTimeoutMs,
    heartbeatIntervalMs,
    maxPayloadBytes: integer('maxPayloadBytes', options.maxPayloadBytes, 1_000_000, 1, 64 * 1024 * 1024),
    deliveryTimeoutMs: integer('deliveryTimeoutMs', options.deliveryTimeoutMs, 30_000, 100, 3_600_000),
    requestTimeoutMs: integer('requestTimeoutMs', options.requestTimeoutMs, 10_000, 100, 600_000),
    tombstoneRetentionMs: integer(
      'tombstoneRetentionMs',
      options.tombstoneRetentionMs,
      24 * 60 * 60 * 1000,
      0,
      365 * 24 * 60 * 60 * 1000,
    ),
    staticMembership,
    clientId,
  });
}

function integer(
  field: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  return integerOption(COMPONENT, field, value, fallback, min, max);
}
