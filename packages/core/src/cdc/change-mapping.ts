import type { EventContract, EventInput } from '../contracts/define-event.js';
import { InvalidOptionError } from '../errors.js';
import type { RowChange } from './row-change.js';

/** One event a row change maps to: a contract and its data, validated like any append. */
export interface MappedEvent<C extends EventContract = EventContract> {
  readonly contract: C;
  readonly data: EventInput<C>;
}

/**
 * Turns a row change into zero or more contract events: the table's internal model is never published as is.
 * Publishing a raw row is possible only by declaring a contract for it. Runs in the relay for every change, in
 * order; it must be deterministic (a change read again after a restart must map to the same events) and may
 * return at most 16 events per change.
 */
export interface ChangeMapping {
  (change: RowChange): readonly MappedEvent[];
  /**
   * Optional, declared with {@link defineChangeMapping}: the contracts each table's changes may map to, by
   * `schema.table`, or by the bare table name for a table of any schema (`schema.table` wins). With it, a backfill of a table whose contracts forbid one (`backfill: false`) is refused when
   * it is requested (`sluice backfill --contracts`, `requestBackfill`), and the relay refuses a change mapped to
   * a contract not declared for its table. Without it, the relay still refuses snapshot rows mapped to such a
   * contract, but only once the backfill runs.
   */
  readonly tables?: Readonly<Record<string, readonly EventContract[]>>;
}

const TABLE_NAME = /^(?:[^.\s]+\.)?[^.\s]+$/;

/**
 * A change mapping with the contracts each table's changes may map to declared, so that what a table feeds is
 * known before any change is read: `defineChangeMapping({ tables: { 'public.course': [CoursePublished] }, map })`.
 */
export function defineChangeMapping(options: {
  tables: Readonly<Record<string, readonly EventContract[]>>;
  map: (change: RowChange) => readonly MappedEvent[];
}): ChangeMapping {
  const { tables, map } = options;
  if (typeof map !== 'function') {
    throw new InvalidOptionError(
      'defineChangeMapping',
      'map',
      'must be a function from a row change to events',
    );
  }
  for (const [table, contracts] of Object.entries(tables ?? {})) {
    if (!TABLE_NAME.test(table)) {
      throw new InvalidOptionError(
        'defineChangeMapping',
        'tables',
        `must name tables as schema.table or table, got ${JSON.stringify(table)}`,
      );
    }
    if (!Array.isArray(contracts) || contracts.some((c) => c?.kind !== 'sluice.event')) {
      throw new InvalidOptionError(
        'defineChangeMapping',
        `tables.${table}`,
        'must be a list of contracts from defineEvent()',
      );
    }
  }
  const declared = Object.freeze(
    Object.fromEntries(Object.entries(tables).map(([t, cs]) => [t, Object.freeze([...cs])])),
  );
  const mapping = (change: RowChange) => map(change);
  return Object.assign(mapping, { tables: declared });
}

/** Helps type a mapped event: `mapped(CoursePublished, { courseId, title })`. */
export function mapped<C extends EventContract>(contract: C, data: EventInput<C>): MappedEvent<C> {
  return { contract, data };
}

/** The contracts a mapping declares for a table (`schema.table`, else the bare name), or undefined. */
export function declaredContracts(
  mapping: ChangeMapping,
  schema: string,
  table: string,
): readonly EventContract[] | undefined {
  return mapping.tables?.[`${schema}.${table}`] ?? mapping.tables?.[table];
}
