import { randomUUID } from 'node:crypto';

/**
 * The in-memory states behind a store's opaque read cursors: `save` issues a cursor for a state, `get` finds it
 * again (and keeps it among the most recent), and only the last `kept` are remembered. A cursor from another
 * process or one evicted is simply unknown: the store then reads from every pending row again (the relay is
 * at least once), never skipping one.
 */
export class CursorStates<S> {
  readonly #id = randomUUID().slice(0, 8);
  readonly #states = new Map<string, S>();
  readonly #kept: number;
  #issued = 0;

  constructor(kept = 16) {
    this.#kept = kept;
  }

  get(cursor: string): S | undefined {
    const state = this.#states.get(cursor);
    if (state === undefined) return undefined;
    this.#states.delete(cursor);
    this.#states.set(cursor, state);
    return state;
  }

  save(state: S): string {
    const cursor = `${this.#id}.${++this.#issued}`;
    this.#states.set(cursor, state);
    while (this.#states.size > this.#kept) this.#states.delete(this.#states.keys().next().value!);
    return cursor;
  }

  /** Every state remembered (to prune what they hold). */
  values(): IterableIterator<S> {
    return this.#states.values();
  }
}
