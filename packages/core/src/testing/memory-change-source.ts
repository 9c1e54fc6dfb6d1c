import type { ChangeSource, ChangeSourceStats } from '../cdc/change-source.js';
import type { RowChange } from '../cdc/row-change.js';
import { waitForWake } from '../util/wait-for-wake.js';

/**
 * A database log in memory, for unit tests of the change-source machinery only (real sources are tested
 * against real databases): `commit` appends committed changes; each `reader()` reads them like a source
 * restarted from the acknowledged position, which it shares with every other reader of this log.
 */
export class MemoryChangeLog {
  readonly changes: RowChange[] = [];
  /** Position of the last acknowledged change, undefined before any. */
  acknowledged: string | undefined;
  readonly acknowledgements: string[] = [];
  #waiters = new Set<() => void>();

  /** Appends a committed transaction's changes. */
  commit(...changes: RowChange[]): void {
    this.changes.push(...changes);
    for (const w of [...this.#waiters]) w();
  }

  /** A source reading this log from the acknowledged position, as a restarted process would. */
  reader(name = 'memory-log'): ChangeSource {
    let next = this.changes.findIndex((c) => c.position === this.acknowledged) + 1;
    const log = this;
    return {
      name,
      async read(limit, maxWaitMs, signal) {
        if (next >= log.changes.length && maxWaitMs > 0) await waitForWake(log.#waiters, maxWaitMs, signal);
        const out = log.changes.slice(next, next + limit);
        next += out.length;
        return out;
      },
      async acknowledge(position) {
        const at = log.changes.findIndex((c) => c.position === position);
        if (at < 0) throw new Error(`unknown position ${position}`);
        if (at < log.changes.findIndex((c) => c.position === log.acknowledged)) {
          throw new Error(`acknowledged ${position} after a later position`);
        }
        log.acknowledged = position;
        log.acknowledgements.push(position);
      },
      async stats(): Promise<ChangeSourceStats> {
        return { lagBytes: null, lagMs: null };
      },
      async close() {},
    };
  }
}
