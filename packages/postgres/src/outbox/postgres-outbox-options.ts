import { InvalidOptionError, type Logger, silentLogger } from '@sluice/core';
import { checkIdentifier } from '../identifier.js';
import { DEFAULT_SCHEMA } from '../migrations/migrate.js';

/** Options of `createPostgresOutbox`. */
export interface PostgresOutboxOptions {
  /** The CloudEvents `source` of events appended here: a URI naming the service, e.g. `urn:service:enrollments`. */
  readonly source: string;
  /** The schema holding Sluice's tables. Default `sluice`. */
  readonly schema?: string;
  /** Run pending migrations now instead of requiring `sluice migrate`. Default false. */
  readonly migrate?: boolean;
  /** The `LISTEN`/`NOTIFY` channel that wakes a waiting relay. Default `<schema>_outbox`. */
  readonly channel?: string;
  /**
   * How often a waiting relay also checks for commits itself, in case a notification was missed (the
   * listening connection was lost, or rows were inserted without `append`). Default 250 ms.
   */
  readonly pollIntervalMs?: number;
  /**
   * Keep delivered events in `<schema>.outbox_archive` for this long (for audit) instead of deleting them when
   * the relay acknowledges them. Default 0: delete at once.
   */
  readonly keepDeliveredMs?: number;
  /**
   * Housekeeping, run by the relay's store after acknowledgements at most this often: archived events older
   * than `keepDeliveredMs` are deleted in batches (one short transaction each), and the outbox table is
   * vacuumed once `vacuumEveryRows` rows were deleted since the last time. Default 10000 ms.
   */
  readonly housekeepingIntervalMs?: number;
  /** Archived rows deleted per housekeeping transaction. Default 5000. */
  readonly housekeepingBatchSize?: number;
  /**
   * `VACUUM` the outbox table after this many acknowledged rows (a queue's dead rows otherwise wait for
   * autovacuum's next round, and the table and its indexes bloat under sustained load). 0 leaves it to
   * autovacuum alone (tuned for a queue by the migrations). Needs the table's owner or a superuser; without the
   * privilege the store stops trying. Default 100000.
   */
  readonly vacuumEveryRows?: number;
  /** Where warnings go (an append of a deprecated contract version, once per version per process). Default silent. */
  readonly logger?: Logger;
}

/** The options with every default filled in, frozen. */
export type ResolvedPostgresOutboxOptions = Readonly<Required<PostgresOutboxOptions>>;

const COMPONENT = 'postgres outbox';

/** Defaults and validation (naming the offending field); the result is frozen. */
export function resolvePostgresOutboxOptions(options: PostgresOutboxOptions): ResolvedPostgresOutboxOptions {
  if (typeof options?.source !== 'string' || !/^[A-Za-z][A-Za-z0-9+.-]*:\S+$|^\/\S*$/.test(options.source)) {
    throw new InvalidOptionError(
      COMPONENT,
      'source',
      `must be a URI naming the service, e.g. "urn:service:enrollments", got ${JSON.stringify(options?.source)}`,
    );
  }
  const schema = checkIdentifier(COMPONENT, 'schema', options.schema ?? DEFAULT_SCHEMA);
  const defaultChannel = `${schema}_outbox`;
  if (options.channel === undefined && defaultChannel.length > 63) {
    throw new InvalidOptionError(
      COMPONENT,
      'channel',
      `defaults to "${defaultChannel}", longer than PostgreSQL's 63 characters; pass a shorter \`channel\``,
    );
  }
  const channel = checkIdentifier(COMPONENT, 'channel', options.channel ?? defaultChannel);
  if (options.migrate !== undefined && typeof options.migrate !== 'boolean') {
    throw new InvalidOptionError(
      COMPONENT,
      'migrate',
      `must be true or false, got ${JSON.stringify(options.migrate)}`,
    );
  }
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  if (typeof pollIntervalMs !== 'number' || !Number.isFinite(pollIntervalMs) || pollIntervalMs <= 0) {
    throw new InvalidOptionError(
      COMPONENT,
      'pollIntervalMs',
      `must be a positive number, got ${pollIntervalMs}`,
    );
  }
  const count = (field: string, value: number | undefined, fallback: number, min: number) => {
    const v = value ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
      throw new InvalidOptionError(COMPONENT, field, `must be a number >= ${min}, got ${v}`);
    }
    return v;
  };
  return Object.freeze({
    keepDeliveredMs: count('keepDeliveredMs', options.keepDeliveredMs, 0, 0),
    housekeepingIntervalMs: count('housekeepingIntervalMs', options.housekeepingIntervalMs, 10_000, 1),
    housekeepingBatchSize: Math.floor(count('housekeepingBatchSize', options.housekeepingBatchSize, 5000, 1)),
    vacuumEveryRows: Math.floor(count('vacuumEveryRows', options.vacuumEveryRows, 100_000, 0)),
    source: options.source,
    schema,
    migrate: options.migrate ?? false,
    channel,
    pollIntervalMs,
    logger: options.logger ?? silentLogger,
  });
}
