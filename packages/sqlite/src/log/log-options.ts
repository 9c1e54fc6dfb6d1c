import { InvalidOptionError } from '@sluice/core';

/** Options of {@link createLogTransport}. Only `path` is required. */
export interface LogTransportOptions {
  /** The SQLite file holding the log; created if missing. Several processes may open the same file. */
  readonly path: string;
  /** Largest record accepted (value, key and headers, in UTF-8 bytes). Default 1 MiB. */
  readonly maxPayloadBytes?: number;
  /** A group member that has not heartbeated for this long is dead; its partitions move. Default 10000 ms. */
  readonly sessionTimeoutMs?: number;
  /** How often an idle member heartbeats. Default a third of `sessionTimeoutMs`. */
  readonly heartbeatIntervalMs?: number;
  /** How often a waiting `poll` checks for commits by other processes (`PRAGMA data_version`). Default 2 ms. */
  readonly pollIntervalMs?: number;
  /** How long a tombstone of an `entity` topic is kept before the sweep deletes it. Default 24 h. */
  readonly tombstoneRetentionMs?: number;
  /** How often expired records and tombstones are deleted. Default 30000 ms. */
  readonly sweepIntervalMs?: number;
  /** How long a write waits for another process's write lock before failing (retryable). Default 10000 ms. */
  readonly busyTimeoutMs?: number;
}

/** {@link LogTransportOptions} with every default applied; frozen. */
export type ResolvedLogOptions = Readonly<Required<LogTransportOptions>>;

const COMPONENT = 'createLogTransport';

/** Applies defaults and validates `options`, naming the offending field. */
export function resolveLogOptions(options: LogTransportOptions): ResolvedLogOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError(COMPONENT, 'options', 'must be an object with at least `path`');
  }
  if (typeof options.path !== 'string' || options.path.length === 0) {
    throw new InvalidOptionError(
      COMPONENT,
      'path',
      `must be a non-empty file path, got ${JSON.stringify(options.path)}`,
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
    path: options.path,
    maxPayloadBytes: positiveInteger('maxPayloadBytes', options.maxPayloadBytes, 1024 * 1024),
    sessionTimeoutMs,
    heartbeatIntervalMs,
    pollIntervalMs: positiveInteger('pollIntervalMs', options.pollIntervalMs, 2),
    tombstoneRetentionMs: positiveInteger(
      'tombstoneRetentionMs',
      options.tombstoneRetentionMs,
      24 * 60 * 60 * 1000,
    ),
    sweepIntervalMs: positiveInteger('sweepIntervalMs', options.sweepIntervalMs, 30_000),
    busyTimeoutMs: positiveInteger('busyTimeoutMs', options.busyTimeoutMs, 10_000),
  });
}

function positiveInteger(field: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidOptionError(COMPONENT, field, `must be a positive integer, got ${String(value)}`);
  }
  return value;
}
