import type { OutboxRow } from './outbox-store.js';

/** The key a per-key sequence counts: source, topic and key. */
export function chainOf(source: string, topic: string, key: string): string {
  return `${source}\u0000${topic}\u0000${key}`;
}

/** A pending outbox row a reader may release, with its key's chain and what was acknowledged of it. */
export interface GateCandidate {
  readonly row: OutboxRow;
  readonly chain: string;
  readonly sequence: number;
  /** The chain's last acknowledged sequence (0 when none). */
  readonly delivered: number;
}

/**
 * The release gate both SQL outbox readers use, so per-key order is an enforced invariant rather than an
 * argument about locks or snapshots: moves candidates (in position order) whose sequence is the next of their
 * key after the last one returned (`returned`) or acknowledged into `out`, repeating while that releases rows
 * held behind them, and stops at `limit`. Updates `returned`; returns the rest, still in order. A row at or below
 * what was returned or acknowledged cannot occur (acknowledging deletes it in the same transaction); if it did,
 * it is returned again rather than dropped: at least once, never lost.
 */
export function releaseInSequence<C extends GateCandidate>(
  candidates: readonly C[],
  returned: Map<string, number>,
  limit: number,
  out: OutboxRow[],
): C[] {
  let waiting = candidates;
  for (;;) {
    let released = false;
    const still: C[] = [];
    for (const c of waiting) {
      const base = Math.max(returned.get(c.chain) ?? 0, c.delivered);
      if (out.length >= limit || c.sequence > base + 1) {
        still.push(c);
        continue;
      }
      out.push(c.row);
      released = true;
      if (c.sequence === base + 1) returned.set(c.chain, c.sequence);
    }
    waiting = still;
    if (!released || waiting.length === 0 || out.length >= limit) return [...waiting];
  }
}

/** Forgets chains' returned sequences that are now acknowledged, in every kept cursor state (memory only). */
export function forgetAcknowledged(
  states: Iterable<{ readonly returned: Map<string, number> }>,
  acknowledged: readonly { chain: string; sequence: number }[],
): void {
  for (const state of states) {
    for (const { chain, sequence } of acknowledged) {
      const returned = state.returned.get(chain);
      if (returned !== undefined && returned <= sequence) state.returned.delete(chain);
    }
  }
}
