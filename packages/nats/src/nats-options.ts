import { InvalidOptionError } from '@sluice/core';
import { integerOption } from '@sluice/core/adapter';

/**
 * Options of {@link createNatsTransport}. Only `url` is required.
 *
 * Durability: nats-server 2.9.10 (Debian 12) acknowledges a JetStream publish before it fsyncs and has no
 * `sync_interval` setting. What keeps an acknowledged record is replication: with `replicas: 3` an
 * acknowledged message is in the memory / page cache of a quorum of 2 nodes, so losing one node loses
 * nothing, but a power loss on 2 nodes at once can. With `replicas: 1` on 2.9.10 a machine crash can lose
 * acknowledged messages written within the OS writeback interval. nats-server 2.10+ offers
 * `sync_interval: always` in its `jetstream {}` block to fsync before acknowledging.
 */
export interface NatsTransportOptions {
  /** The servers: `nats://host:port`, several separated by commas (a cluster). */
  readonly url: string;
  /**
   * Prefixes every stream and subject this transport creates, so several environments (or test cases) share
   * one server without seeing each other's records. Any string of 1 to 64 characters. Default `default`.
   */
  readonly namespace?: string;
  /** Replicas of every stream (`num_replicas`): 1 on a single server, 3 on a 3-node cluster. Default 1. */
  readonly replicas?: number;
  /** A group member that has not heartbeated for this long is dead; its partitions move. Default 10000 ms. */
  readonly sessionTimeoutMs?: number;
  /** How often a member heartbeats. Default a third of `sessionTimeoutMs`. */
  readonly heartbeatIntervalMs?: number;
  /**
   * Largest record accepted (value, key and headers as sent, in bytes). Default and upper bound: the
   * server's `max_payload` (1 MiB unless configured), read from the connection.
   */
  readonly maxPayloadBytes?: number;
  /** How long a JetStream request (publish ack, fetch, stream call) may take before it fails. Default 10000 ms. */
  readonly requestTimeoutMs?: number;
  /** Client name shown in the server's monitoring. Default `sluice`. */
  readonly name?: string;
  /** How long a tombstone of an `entity` topic is kept before the sweep purges it. Default 24 h. */
  readonly tombstoneRetentionMs?: number;
  /** How often this transport sweeps old tombstones of the entity topics it uses. Default 30000 ms. */
  readonly sweepIntervalMs?: number;
}

/** {@link NatsTransportOptions} with every default applied; frozen. */
export interface ResolvedNatsOptions {
  readonly servers: readonly string[];
  readonly namespace: string;
  readonly replicas: number;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly maxPayloadBytes: number | undefined;
  readonly requestTimeoutMs: number;
  readonly name: string;
  readonly tombstoneRetentionMs: number;
  readonly sweepIntervalMs: number;
}

const COMPONENT = 'createNatsTransport';

/** Applies defaults and validates `options`, naming the offending field. */
export function resolveNatsOptions(options: NatsTransportOptions): ResolvedNatsOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError(COMPONENT, 'options', 'must be an object with at least `url`');
  }
  if (typeof options.url !== 'string' || options.url.trim() === '') {
    throw new InvalidOptionError(
      COMPONENT,
      'url',
      `must be a nats://host:port URL (several separated by commas), got ${JSON.stringify(options.url)}`,
    );
  }
  const servers = options.url
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const server of servers) {
    if (!/^(nats|tls|ws|wss):\/\/[^\s/]+\/?$/i.test(server) && !/^[^\s:/]+:\d+$/.test(server)) {
      throw new InvalidOptionError(
        COMPONENT,
        'url',
        `must be a nats://host:port URL (several separated by commas), got ${JSON.stringify(server)}`,
      );
    }
  }
  const namespace = options.namespace ?? 'default';
  if (typeof namespace !== 'string' || namespace.length < 1 || namespace.length > 64) {
    throw new InvalidOptionError(
      COMPONENT,
      'namespace',
      `must be a string of 1 to 64 characters, got ${JSON.stringify(namespace)}`,
    );
  }
  const replicas = integer('replicas', options.replicas, 1, 1, 5);
  const sessionTimeoutMs = integer('sessionTimeoutMs', options.sessionTimeoutMs, 10_000, 50, 600_000);
  const heartbeatIntervalMs = integer(
    'heartbeatIntervalMs',
    options.heartbeatIntervalMs,
    Math.max(10, Math.floor(sessionTimeoutMs / 3)),
    10,
    600_000,
  );
  if (heartbeatIntervalMs >= sessionTimeoutMs) {
    throw new InvalidOptionError(
      COMPONENT,
      'heartbeatIntervalMs',
      `must be less than sessionTimeoutMs (${sessionTimeoutMs}), got ${heartbeatIntervalMs}; a third of it is a good value`,
    );
  }
  const maxPayloadBytes =
    options.maxPayloadBytes === undefined
      ? undefined
      : integer('maxPayloadBytes', options.maxPayloadBytes, 0, 1, 64 * 1024 * 1024);
  const name = options.name ?? 'sluice';
  if (typeof name !== 'string' || name === '') {
    throw new InvalidOptionError(
      COMPONENT,
      'name',
      `must be a non-empty string, got ${JSON.stringify(name)}`,
    );
  }
  return Object.freeze({
    servers: Object.freeze(servers),
    namespace,
    replicas,
    sessionTimeoutMs,
    heartbeatIntervalMs,
    maxPayloadBytes,
    requestTimeoutMs: integer('requestTimeoutMs', options.requestTimeoutMs, 10_000, 100, 600_000),
    name,
    tombstoneRetentionMs: integer(
      'tombstoneRetentionMs',
      options.tombstoneRetentionMs,
      24 * 60 * 60 * 1000,
      1,
      2 ** 40,
    ),
    sweepIntervalMs: integer('sweepIntervalMs', options.sweepIntervalMs, 30_000, 10, 24 * 60 * 60 * 1000),
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
