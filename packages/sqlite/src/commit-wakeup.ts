import { waitForWake } from '@sluice/core/adapter';

/** Listeners per SQLite file in this process (the log, an outbox), told right after a write to that file commits. */
const listeners = new Map<string, Set<() => void>>();

/** Tells every waiter of this process on `file` (an absolute path) that something was committed. */
export function notifyCommitted(file: string): void {
  const set = listeners.get(file);
  if (set === undefined) return;
  for (const listener of [...set]) listener();
}

/**
 * Wakes waiters on one SQLite file (polls of a log transport, a relay on an outbox): at once when code in this process commits to the file
 * ({@link notifyCommitted}), and within `intervalMs` when another process does (`PRAGMA data_version`
 * changes). The data_version check runs only while someone waits.
 */
export class CommitWakeup {
  readonly #file: string;
  readonly #dataVersion: () => number;
  readonly #intervalMs: number;
  readonly #waiters = new Set<() => void>();
  readonly #listener = () => this.wakeAll();
  #seenVersion: number;
  #ticker: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(file: string, dataVersion: () => number, intervalMs: number) {
    this.#file = file;
    this.#dataVersion = dataVersion;
    this.#intervalMs = intervalMs;
    this.#seenVersion = dataVersion();
    let set = listeners.get(file);
    if (set === undefined) {
      set = new Set();
      listeners.set(file, set);
    }
    set.add(this.#listener);
  }

  /**
   * Resolves on the next commit to the file (by anyone), at `until` (ms since the epoch), when `signal` aborts,
   * or when the wake-up is closed. Never rejects.
   */
  wait(until: number, signal?: AbortSignal): Promise<void> {
    const delay = until - Date.now();
    if (this.#closed || signal?.aborted || delay <= 0) return Promise.resolve();
    const waiting = waitForWake(this.#waiters, delay, signal, () => {
      if (this.#waiters.size === 0) this.#stopTicker();
    });
    this.#startTicker();
    return waiting;
  }

  /** Wakes every waiter. */
  wakeAll(): void {
    for (const done of [...this.#waiters]) done();
  }

  /** Wakes everyone and stops listening. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopTicker();
    const set = listeners.get(this.#file);
    set?.delete(this.#listener);
    if (set?.size === 0) listeners.delete(this.#file);
    this.wakeAll();
  }

  /** No one waits: no data_version check is due (a pending one would also keep the process alive). */
  #stopTicker(): void {
    clearTimeout(this.#ticker);
    this.#ticker = undefined;
  }

  #startTicker(): void {
    if (this.#ticker !== undefined || this.#closed) return;
    const tick = () => {
      this.#ticker = undefined;
      if (this.#closed || this.#waiters.size === 0) return;
      const version = this.#dataVersion();
      if (version !== this.#seenVersion) {
        this.#seenVersion = version;
        this.wakeAll();
      }
      if (this.#waiters.size > 0) this.#ticker = setTimeout(tick, this.#intervalMs);
    };
    this.#ticker = setTimeout(tick, this.#intervalMs);
  }
}
