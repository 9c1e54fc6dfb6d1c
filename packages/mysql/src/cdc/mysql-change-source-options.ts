import { createHash } from 'node:crypto';
import { InvalidOptionError, type PositionStore } from '@sluice/core';
import { integerOption } from '@sluice/core/adapter';

/** Options of {@link MysqlChangeSource}. */
export interface MysqlChangeSourceOptions {
  /**
   * The source server, `mysql://user:password@host:port/database`, as a user with REPLICATION SLAVE and
   * REPLICATION CLIENT, and SELECT on the captured tables (column names come from information_schema).
   */
  readonly url: string;
  /** Names this source: its stored position, its reader lock and its events' ids. Letters, digits, `_`, `-`. */
  readonly name: string;
  /** Where the acknowledged position is kept (e.g. `MysqlPositionStore` or core's `FilePositionStore`). */
  readonly positionStore: PositionStore;
  /**
   * Which tables to capture: `database.table` or a whole `database`. Changes of other tables never surface
   * (their transactions still move the position forward once everything after them is acknowledged).
   */
  readonly tables: readonly string[];
  /** The replica server id the reader announces; unique among the server's replicas. Default: from `name`. */
  readonly serverId?: number;
  /** Changes held in memory before the binlog connection is paused. Default 10,000. */
  readonly maxBuffered?: number;
  /**
   * The binlog heartbeat period the server is asked for while idle; a connection silent for three periods is
   * taken as dead. While everything read is acknowledged, the position is saved at this pace too, so that
   * transactions of other tables do not keep old binlogs needed. Default 5,000 ms.
   */
  readonly heartbeatIntervalMs?: number;
  /** How long `read` waits for the reader lock another process holds before failing (retryably). Default 0. */
  readonly lockWaitMs?: number;
}

export interface ResolvedMysqlChangeSourceOptions {
  readonly url: string;
  readonly name: string;
  readonly positionStore: PositionStore;
  /** Database to `true` (all its tables) or the list of its captured tables. */
  readonly include: Readonly<Record<string, true | string[]>>;
  readonly serverId: number;
  readonly maxBuffered: number;
  readonly heartbeatIntervalMs: number;
  readonly lockWaitMs: number;
}

const COMPONENT = 'MysqlChangeSource';
const PART = /^[A-Za-z0-9_$]{1,64}$/;

/** Defaults and validation (naming the offending field); the result is frozen. */
export function resolveMysqlChangeSourceOptions(
  options: MysqlChangeSourceOptions,
): ResolvedMysqlChangeSourceOptions {
  if (typeof options?.url !== 'string' || !/^mysql:\/\//.test(options.url)) {
    throw new InvalidOptionError(COMPONENT, 'url', 'must be a mysql://user:password@host:port/database URL');
  }
  if (typeof options.name !== 'string' || !/^[A-Za-z0-9_-]{1,48}$/.test(options.name)) {
    throw new InvalidOptionError(COMPONENT, 'name', 'must be 1 to 48 letters, digits, _ or -');
  }
  const store = options.positionStore as Partial<PositionStore> | undefined;
  if (typeof store?.load !== 'function' || typeof store.save !== 'function') {
    throw new InvalidOptionError(COMPONENT, 'positionStore', 'must be a PositionStore (load, save, close)');
  }
  if (!Array.isArray(options.tables) || options.tables.length === 0) {
    throw new InvalidOptionError(
      COMPONENT,
      'tables',
      'must list at least one `database.table` or `database`',
    );
  }
  const include: Record<string, true | string[]> = {};
  for (const entry of options.tables) {
    const [database, table, extra] = typeof entry === 'string' ? entry.split('.') : [];
    if (
      database === undefined ||
      !PART.test(database) ||
      extra !== undefined ||
      (table !== undefined && !PART.test(table))
    ) {
      throw new InvalidOptionError(
        COMPONENT,
        'tables',
        `has ${JSON.stringify(entry)}: expected \`database.table\` or \`database\``,
      );
    }
    const current = include[database];
    if (table === undefined) include[database] = true;
    else if (current !== true) include[database] = [...(current ?? []), table];
  }
  const serverId = integerOption(
    COMPONENT,
    'serverId',
    options.serverId,
    defaultServerId(options.name),
    2,
    4_294_967_295,
  );
  return Object.freeze({
    url: options.url,
    name: options.name,
    positionStore: options.positionStore,
    include: Object.freeze(include),
    serverId,
    maxBuffered: integerOption(COMPONENT, 'maxBuffered', options.maxBuffered, 10_000, 1, 10_000_000),
    heartbeatIntervalMs: integerOption(
      COMPONENT,
      'heartbeatIntervalMs',
      options.heartbeatIntervalMs,
      5_000,
      100,
      600_000,
    ),
    lockWaitMs: integerOption(COMPONENT, 'lockWaitMs', options.lockWaitMs, 0, 0, 3_600_000),
  });
}

/** A replica server id from the source's name, in 2^30..2^31-1, away from the small ids servers usually have. */
function defaultServerId(name: string): number {
  return 0x4000_0000 + (createHash('sha256').update(name).digest().readUInt32BE(0) % 0x4000_0000);
}
