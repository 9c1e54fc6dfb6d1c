import type { OutboxRow } from '../outbox/outbox-store.js';

/** A key whose next row the transport refused for good; its later rows wait behind it, in order. */
export interface HeldKey {
  readonly topic: string;
  readonly key: string;
  readonly rows: OutboxRow[];
  attempts: number;
  nextAttemptAt: number;
  lastError: { code: string; message: string };
}

/**
 * Keys the relay holds back after a non-retryable publish failure, so one bad key never blocks the others.
 * Held rows stay in the outbox (unacknowledged) and are read again after a restart.
 */
export class HeldKeys {
  readonly #keys = new Map<string, HeldKey>();
  #rows = 0;

  get size(): number {
    return this.#keys.size;
  }

  get rowCount(): number {
    return this.#rows;
  }

  has(row: OutboxRow): boolean {
    return this.#keys.has(HeldKeys.id(row));
  }

  /** Holds `row`'s key (if not yet held) and queues the row behind the ones already held. */
  add(row: OutboxRow, error?: { code: string; message: string }, retryAt?: number): void {
    const id = HeldKeys.id(row);
    let held = this.#keys.get(id);
    if (!held) {
      held = {
        topic: row.topic,
        key: row.key,
        rows: [],
        attempts: 1,
        nextAttemptAt: retryAt ?? Date.now(),
        lastError: error ?? { code: 'SLUICE_KEY_HELD', message: 'held' },
      };
      this.#keys.set(id, held);
    }
    // A row read again (after a failed batch was re-read) is already queued: keep each position once.
    const last = held.rows[held.rows.length - 1];
    if (last !== undefined && row.position <= last.position) return;
    held.rows.push(row);
    this.#rows++;
  }

  /** Held keys due for another attempt at `now`. */
  due(now: number): HeldKey[] {
    return [...this.#keys.values()].filter((h) => h.nextAttemptAt <= now);
  }

  /** Earliest next attempt among held keys, or undefined. */
  nextAttemptAt(): number | undefined {
    let next: number | undefined;
    for (const h of this.#keys.values())
      if (next === undefined || h.nextAttemptAt < next) next = h.nextAttemptAt;
    return next;
  }

  /** Removes the first `count` rows of a held key; releases the key when none remain. */
  shift(held: HeldKey, count: number): void {
    held.rows.splice(0, count);
    this.#rows -= count;
    if (held.rows.length === 0) this.#keys.delete(`${held.topic}\u0000${held.key}`);
  }

  list(): readonly HeldKey[] {
    return [...this.#keys.values()];
  }

  clear(): void {
    this.#keys.clear();
    this.#rows = 0;
  }

  private static id(row: OutboxRow): string {
    return `${row.topic}\u0000${row.key}`;
  }
}
