import { waitForWake } from '../util/wait-for-wake.js';
import type { RowChange } from './row-change.js';

/**
 * The changes a log-reading {@link ChangeSource} has received and not yet handed over, with the stream's
 * failure: what its `read` hands out and waits on. The source owns pausing its stream while `full` and resuming
 * it when `low`, and what a failure means (it takes it with `takeFailure` and starts again).
 */
export class ChangeBuffer {
  #changes: RowChange[] = [];
  readonly #waiters = new Set<() => void>();
  #failure: unknown;
  #failed = false;
  /** The position of the last change handed out by `take`. */
  lastHandedOut: string | undefined;

  /** `max`: how many changes make the buffer full. */
  constructor(readonly max: number) {}

  get length(): number {
    return this.#changes.length;
  }

  /** At least `max` changes: time to pause the stream. */
  get full(): boolean {
    return this.#changes.length >= this.max;
  }

  /** Below half of `max`: time to resume a paused stream. */
  get low(): boolean {
    return this.#changes.length < this.max / 2;
  }

  /** The oldest change not yet handed out. */
  get first(): RowChange | undefined {
    return this.#changes[0];
  }

  /** Adds a received change and wakes a waiting `take`. */
  push(change: RowChange): void {
    this.#changes.push(change);
    for (const wake of [...this.#waiters]) wake();
  }

  /** The stream broke: the first failure is kept (for `takeFailure`) and waiting reads wake. */
  fail(error: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#failure = error;
    for (const wake of [...this.#waiters]) wake();
  }

  /**
   * Up to `limit` changes, waiting up to `maxWaitMs` (or until `signal` aborts) for a first one; undefined when
   * the stream failed and everything received before the failure was handed out.
   */
  async take(limit: number, maxWaitMs: number, signal?: AbortSignal): Promise<RowChange[] | undefined> {
    if (this.#changes.length === 0 && maxWaitMs > 0 && !this.#failed) {
      await waitForWake(this.#waiters, maxWaitMs, signal);
    }
    if (this.#failed && this.#changes.length === 0) return undefined;
    const out = this.#changes.splice(0, limit);
    if (out.length > 0) this.lastHandedOut = out[out.length - 1]!.position;
    return out;
  }

  /** The failure, cleared along with every change received: the source starts its stream again. */
  takeFailure(): unknown {
    const error = this.#failure;
    this.#failure = undefined;
    this.#failed = false;
    this.#changes = [];
    return error;
  }
}
