import { InvalidOptionError } from '../../errors.js';
import { integerOption } from '../../util/integer-option.js';
import type { PositionStore } from '../position-store.js';
import type { PolledTable } from './polled-table.js';

export interface QueryChangeSourceOptions {
  /** The table and its dialect, e.g. `createPostgresPolledTable(pool, {...})` or `createMysqlPolledTable(pool, {...})`. */
  readonly table: PolledTable;
  /**
   * Where the acknowledged cursor is kept (e.g. a `FilePositionStore`), under the source's `name`. The caller
   * owns it: `close()` does not close it.
   */
  readonly positions: PositionStore;
  /** Stable across restarts: it keys the stored position and the events' ids. Default `query:<schema>.<table>`. */
  readonly name?: string;
  /**
   * How long a transaction may take to commit, measured on the database's clock. Incrementing mode: a missing id
   * below a visible one is waited for this long from when it was first seen, then passed (a rolled-back insert).
   * Timestamp+incrementing mode: only rows whose timestamp is at least this old are read. Every change waits up
   * to this long (timestamp mode: always). Default 10,000 ms.
   */
  readonly safetyDelayMs?: number;
  /**
   * How often the table is queried while `read` waits for changes. Default 1,000 ms. An idle relay also
   * queries it once per round of its own (its `idleWaitMs`).
   */
  readonly pollIntervalMs?: number;
  /**
   * Incrementing mode: the ids are allocated one after another (PostgreSQL sequences with CACHE 1, MySQL
   * `auto_increment_increment = 1`), so a row with no missing id below it is handed over at once and only gaps
   * wait. False: every row waits `safetyDelayMs` from when it was first seen (a pure delay). Default true.
   */
  readonly contiguousIds?: boolean;
}

export type ResolvedQueryChangeSourceOptions = Readonly<Required<QueryChangeSourceOptions>>;

const COMPONENT = 'queryChangeSource';

/** Defaults and checks, naming the offending field; the result is frozen. */
export function resolveQueryChangeSourceOptions(
  o: QueryChangeSourceOptions,
): ResolvedQueryChangeSourceOptions {
  requireMethods(
    o.table,
    ['fetch', 'databaseNow'],
    'table',
    'a PolledTable, e.g. createPostgresPolledTable(pool, …)',
  );
  if (o.table.mode !== 'incrementing' && o.table.mode !== 'timestamp+incrementing') {
    throw new InvalidOptionError(COMPONENT, 'table', `has an unknown mode ${JSON.stringify(o.table.mode)}`);
  }
  requireMethods(
    o.positions,
    ['load', 'save'],
    'positions',
    'a PositionStore, e.g. new FilePositionStore(path)',
  );
  const name = o.name ?? `query:${o.table.schema}.${o.table.table}`;
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidOptionError(COMPONENT, 'name', 'must be a non-empty string');
  }
  if (o.contiguousIds !== undefined && typeof o.contiguousIds !== 'boolean') {
    throw new InvalidOptionError(COMPONENT, 'contiguousIds', 'must be true or false');
  }
  return Object.freeze({
    table: o.table,
    positions: o.positions,
    name,
    safetyDelayMs: integerOption(COMPONENT, 'safetyDelayMs', o.safetyDelayMs, 10_000, 0, 86_400_000),
    pollIntervalMs: integerOption(COMPONENT, 'pollIntervalMs', o.pollIntervalMs, 1000, 10, 600_000),
    contiguousIds: o.contiguousIds ?? true,
  });
}

/** Fails naming `field` unless `value` is an object with every one of `methods`. */
function requireMethods(value: unknown, methods: readonly string[], field: string, what: string): void {
  const object = value as Record<string, unknown> | null | undefined;
  if (typeof object !== 'object' || object === null || methods.some((m) => typeof object[m] !== 'function')) {
    throw new InvalidOptionError(COMPONENT, field, `must be ${what}`);
  }
}
