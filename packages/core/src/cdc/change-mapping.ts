import type { EventContract, EventInput } from '../contracts/define-event.js';
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
export type ChangeMapping = (change: RowChange) => readonly MappedEvent[];

/** Helps type a mapped event: `mapped(CoursePublished, { courseId, title })`. */
export function mapped<C extends EventContract>(contract: C, data: EventInput<C>): MappedEvent<C> {
  return { contract, data };
}
