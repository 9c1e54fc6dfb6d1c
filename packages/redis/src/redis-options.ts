import { InvalidOptionError } from '@sluice/core';

/** Options of {@link createRedisTransport}. Only `url` is required. */
export interface RedisTransportOptions {
  /** The Redis server, `redis://host:port` (or `rediss://` for TLS, with user and password if needed). */
  readonly url: string;
  /** Prefix of every key the transport creates. Default `sluice`. */
  readonly prefix?: string;
  /** Appended to `prefix` (`<prefix>:<namespace>`), so environments can share one server. */
  readonly namespace?: string;
  /** Largest record accepted (value, key and headers, in UTF-8 bytes). Default 1 MiB. */
  readonly maxPayloadBytes?: number;
  /** A group member that has not heartbeated for this long is dead; its partitions move. Default 10000 ms. */
  readonly sessionTimeoutMs?: number;
  /** How often a member heartbeats. Default a third of `sessionTimeoutMs`. */
  readonly heartbeatIntervalMs?: number;
  /** How long a tombstone of an `entity` topic is kept before the sweep deletes it. Default 24 h. */
  readonly tombstoneRetentionMs?: number;
  /** How often expired message entries and old tombstones are deleted. Default 30000 ms. */
  readonly sweepIntervalMs?: number;
  /** How long `createRedisTransport` tries to reach the server before failing. Default 10000 ms. */
  readonly connectTimeoutMs?: number;
  /** Longest wait between reconnection attempts after the connection is lost. Default 1000 ms. */
  readonly maxReconnectDelayMs?: number;
}

/** {@link RedisTransportOptions} with every default applied; frozen. `keyPrefix` is the prefix in force. */
export type ResolvedRedisOptions = Readonly<
  Required<Omit<RedisTransportOptions, 'namespace' | 'prefix'>> & { readonly keyPrefix: string }
>;

const COMPONENT = 'createRedisTransport';
const PREFIX = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;

/** Applies defaults and validates `options`, naming the offending field. */
export function resolveRedisOptions(options: RedisTransportOptions): ResolvedRedisOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError(COMPONENT, 'options', 'must be an object with at least `url`');
  }
  if (typeof options.url !== 'string' || !/^rediss?:\/\/\S+$/.test(options.url)) {
    throw new InvalidOptionError(
      COMPONENT,
      'url',
      `must be a redis://host:port URL, got ${JSON.stringify(options.url)}`,
    );
  }
  const prefix = options.prefix ?? 'sluice';
  if (typeof prefix !== 'string' || !PREFIX.test(prefix)) {
    throw new InvalidOptionError(COMPONENT, 'prefix', `must match ${PREFIX}, got ${JSON.stringify(prefix)}`);
  }
  const namespace = options.namespace;
  if (namespace !== undefined && (typeof namespace !== 'string' || !PREFIX.test(namespace))) {
    throw new InvalidOptionError(
      COMPONENT,
      'namespace',
      `must match ${PREFIX}, got ${JSON.stringify(namespace)}`,
    );
  }
  const sessionTimeoutMs = positiveInteger('sessionTimeoutMs', options.sessionTimeoutMs, 10_000);
  const heartbeatIntervalMs = positiveInteger(
    'heartbeatIntervalMs',
    options.heartbeatIntervalMs,
    Math.max(1, Math.floor(sessionTimeoutMs / 3)),
  );
  if (heartbeatIntervalMs >= sessionTimeoutMs) {
    throw new InvalidOptionError(
      COMPONENT,
      'heartbeatIntervalMs',
      `must be less than sessionTimeoutMs (${sessionTimeoutMs}), got ${heartbeatIntervalMs}; a third of it is a good value`,
    );
  }
  return Object.freeze({
    url: options.url,
    keyPrefix: namespace === undefined ? prefix : `${prefix}:${namespace}`,
    maxPayloadBytes: positiveInteger('maxPayloadBytes', options.maxPayloadBytes, 1024 * 1024),
    sessionTimeoutMs,
    heartbeatIntervalMs,
    tombstoneRetentionMs: positiveInteger(
      'tombstoneRetentionMs',
      options.tombstoneRetentionMs,
      24 * 60 * 60 * 1000,
    ),
    sweepIntervalMs: positiveInteger('sweepIntervalMs', options.sweepIntervalMs, 30_000),
    connectTimeoutMs: positiveInteger('connectTimeoutMs', options.connectTimeoutMs, 10_000),
    maxReconnectDelayMs: positiveInteger('maxReconnectDelayMs', options.maxReconnectDelayMs, 1000),
  });
}

function positiveInteger(field: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidOptionError(COMPONENT, field, `must be a positive integer, got ${String(value)}`);
  }
  return value;
}
