import { InvalidOptionError, type Logger, silentLogger } from '@sluice/core';

export interface SqliteOutboxOptions {
  /** The CloudEvents `source` of events appended here: a URI naming the service, e.g. `urn:service:enrollments`. */
  readonly source: string;
  /** Run pending migrations now instead of requiring `sluice migrate`. Default false. */
  readonly migrate?: boolean;
  /** How often a waiting relay checks for commits from other processes. Default 2 ms. */
  readonly pollIntervalMs?: number;
  /** Where warnings go (an append of a deprecated contract version, once per version per process). Default silent. */
  readonly logger?: Logger;
}

export type ResolvedSqliteOutboxOptions = Readonly<Required<SqliteOutboxOptions>>;

export function resolveSqliteOutboxOptions(options: SqliteOutboxOptions): ResolvedSqliteOutboxOptions {
  const c = 'sqlite outbox';
  if (typeof options?.source !== 'string' || !/^[A-Za-z][A-Za-z0-9+.-]*:\S+$|^\/\S*$/.test(options.source)) {
    throw new InvalidOptionError(
      c,
      'source',
      `must be a URI naming the service, e.g. "urn:service:enrollments", got ${JSON.stringify(options?.source)}`,
    );
  }
  const pollIntervalMs = options.pollIntervalMs ?? 2;
  if (!Number.isFinite(pollIntervalMs) || pollIntervalMs <= 0) {
    throw new InvalidOptionError(c, 'pollIntervalMs', `must be a positive number, got ${pollIntervalMs}`);
  }
  return Object.freeze({
    source: options.source,
    migrate: options.migrate ?? false,
    pollIntervalMs,
    logger: options.logger ?? silentLogger,
  });
}
