/**
 * One event's step in its chain, handed to {@link InboxStore.runOnce} and {@link InboxStore.runBatch}: the
 * chain is the event's `source`, `topic` and `key` (the chain the outbox numbers, see `chainOf`), and the
 * store keeps, per consumer group and chain, the last `sequence` the group applied.
 *
 * The store owns: reading the chain's stored sequence inside the inbox transaction, after the duplicate check
 * and before `apply`; calling `check` with it; writing what `check` returns in the SAME transaction as the
 * event's record and the handler's writes (so a crash never leaves them disagreeing, and a failing handler
 * rolls it back too); and, when `check` refuses, committing nothing. It does not own the rule: `check` is the
 * consumer's (counter or position, gap or out of order, hold or continue).
 */
export interface ChainCheck {
  /** The event's `source` attribute. */
  readonly source: string;
  /** The topic the event was read from. */
  readonly topic: string;
  /** The event's key (`subject`). */
  readonly key: string;
  /**
   * Called once, inside the transaction, with the chain's stored last sequence (`undefined` when the group
   * has none for this chain). Returns the sequence to store, after which the store runs `apply` and records
   * the event; or `undefined` to refuse: nothing is applied, recorded or stored, and the event resolves
   * `refused`. Must not throw.
   */
  readonly check: (last: number | undefined) => number | undefined;
}
