import { InvalidOptionError, type Logger, silentLogger } from '@sluice/core';
import { checkIdentifier } from '../identifier.js';

/** Options of `createMysqlOutbox`. */
export interface MysqlOutboxOptions {
  /** The CloudEvents `source` of events appended here: a URI naming the service, e.g. `urn:service:enrollments`. */
  readonly source: string;
  /** The database holding Sluice's tables (`sluice_*`). Default: the pool's current database. */
  readonly database?: string;
  /** Run pending migrations now instead of requiring `sluice migrate`. Default false. */
  readonly migrate?: boolean;
  /**
   * How long a waiting relay sleeps before reading again (MySQL has no LISTEN/NOTIFY: the relay polls).
   * Default 100 ms.
   */
  readonly pollIntervalMs?: number;
  /** Where warnings go (an append of a deprecated contract version, once per version per process). Default silent. */
  readonly logger?: Logger;
}

/** The options with every default filled in, frozen (`database` stays optional until the store resolves it). */
export interface ResolvedMysqlOutboxOptions {
  readonly source: string;
  readonly database: string | undefined;
  readonly migrate: boolean;
  readonly pollIntervalMs: number;
  readonly logger: Logger;
}

const COMPONENT = 'mysql outbox';

/** Defaults and validation (naming the offending field); the result is frozen. */
export function resolveMysqlOutboxOptions(options: MysqlOutboxOptions): ResolvedMysqlOutboxOptions {
  if (typeof options?.source !== 'string' || !/^[A-Za-z][A-Za-z0-9+.-]*:\S+$|^\/\S*$/.test(options.source)) {
    throw new InvalidOptionError(
      COMPONENT,
      'source',
      `must be a URI naming the service, e.g. "urn:service:enrollments", got ${JSON.stringify(options?.source)}`,
    );
  }
  if (options.source.length > 191) {
    throw new InvalidOptionError(
      COMPONENT,
      'source',
      'must be at most 191 characters (the column holding it)',
    );
  }
  const database =
    options.database === undefined ? undefined : checkIdentifier(COMPONENT, 'database', options.database);
  if (options.migrate !== undefined && typeof options.migrate !== 'boolean') {
    throw new InvalidOptionError(
      COMPONENT,
      'migrate',
      `must be true or false, got ${JSON.stringify(options.migrate)}`,
    );
  }
  const pollIntervalMs = options.pollIntervalMs ?? 100;
  if (typeof pollIntervalMs !== 'number' || !Number.isFinite(pollIntervalMs) || pollIntervalMs <= 0) {
    throw new InvalidOptionError(
      COMPONENT,
      'pollIntervalMs',
      `must be a positive number, got ${pollIntervalMs}`,
    );
  }
  return Object.freeze({
    source: options.source,
    database,
    migrate: options.migrate ?? false,
    pollIntervalMs,
    logger: options.logger ?? silentLogger,
  });
}
