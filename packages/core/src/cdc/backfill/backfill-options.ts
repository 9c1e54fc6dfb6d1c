import { InvalidOptionError } from '../../errors.js';
import type { Logger } from '../../util/logger.js';
import type { Snapshotter } from './snapshotter.js';

export interface BackfillOptions {
  /** The database side: requests, watermarks and chunked reads. */
  readonly snapshotter: Snapshotter;
  /**
   * Tables (`schema.table`) to snapshot the first time the source runs with backfill, i.e. when no backfill
   * was ever requested for it: a new source's consumers get the rows that existed before its log position.
   */
  readonly initialSnapshot?: readonly string[];
  /** How often to look for new backfill requests while none is running. Default 1,000 ms. */
  readonly pollIntervalMs?: number;
  readonly logger?: Logger;
}

export interface ResolvedBackfillOptions {
  readonly snapshotter: Snapshotter;
  readonly initialSnapshot: ReadonlyArray<{ schema: string; table: string }>;
  readonly pollIntervalMs: number;
  readonly logger: Logger | undefined;
}

const TABLE = /^([^.\s]+)\.([^.\s]+)$/;

export function resolveBackfillOptions(options: BackfillOptions): ResolvedBackfillOptions {
  const s = options.snapshotter;
  if (s === null || typeof s !== 'object' || typeof s.readChunk !== 'function') {
    throw new InvalidOptionError(
      'withBackfill',
      'snapshotter',
      'must be a Snapshotter (e.g. createPostgresSnapshotter(pool))',
    );
  }
  const initialSnapshot = (options.initialSnapshot ?? []).map((t) => {
    const m = TABLE.exec(t);
    if (m === null) {
      throw new InvalidOptionError(
        'withBackfill',
        'initialSnapshot',
        `must name tables as schema.table, got ${JSON.stringify(t)}`,
      );
    }
    return { schema: m[1]!, table: m[2]! };
  });
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  if (!Number.isInteger(pollIntervalMs) || pollIntervalMs < 10 || pollIntervalMs > 3_600_000) {
    throw new InvalidOptionError(
      'withBackfill',
      'pollIntervalMs',
      `must be an integer from 10 to 3600000, got ${pollIntervalMs}`,
    );
  }
  return Object.freeze({ snapshotter: s, initialSnapshot, pollIntervalMs, logger: options.logger });
}
