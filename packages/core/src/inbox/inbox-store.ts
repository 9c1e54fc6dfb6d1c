import type { ChainCheck } from './chain-check.js';

/**
 * The consumer's inbox: the record, in the consumer's own database, of which events a consumer group has
 * applied, so a redelivered event is skipped.
 *
 * The store owns: running the handler and recording the event id in ONE transaction of the consumer's
 * database, so either both happen or neither; answering `duplicate` without running the handler when the id is
 * already recorded for the group; keeping each chain's last applied sequence per group (see {@link ChainCheck})
 * and the group's start (see `startGroup`), in the same database. It does not own retries, ordering, dead
 * letters or the gap rules: the consumer runtime does.
 */
export interface InboxStore<Tx> {
  /** Short name for messages, e.g. `sqlite:consumer.db`. */
  readonly name: string;

  /**
   * In one transaction: if `eventId` is recorded for `group`, do nothing and resolve `duplicate`; otherwise run
   * `apply(tx)`, record the id and commit, resolving `applied`. If `apply` throws, roll back and rethrow.
   * When the database cannot be reached, or the connection is lost before the commit (also while `apply`
   * runs), throw a retryable `SluiceError` with code `SLUICE_DATABASE_UNAVAILABLE` (`DATABASE_UNAVAILABLE`):
   * the consumer then waits for the database without counting it against the event's attempts.
   *
   * With `chain`: after the duplicate check and before `apply`, read the chain's stored sequence for `group`
   * (locking it where the database can), call `chain.check` with it, and either store what it returns in the
   * same transaction, or, when it returns `undefined`, roll back and resolve `refused` without calling `apply`.
   */
  runOnce(
    group: string,
    eventId: string,
    apply: (tx: Tx) => unknown,
    chain?: ChainCheck,
  ): Promise<'applied' | 'duplicate' | 'refused'>;

  /**
   * Optional: several events in ONE transaction (one commit, one disk flush for all), for throughput. In
   * order: an event already recorded for `group` (or earlier in this batch) is `duplicate` and its `apply` is
   * not called; otherwise its `apply` runs and the event is recorded. If one `apply` throws, only that event's
   * writes and record are undone (a savepoint), it resolves `failed` with the error, and the others still
   * commit. Throws (nothing committed) only when the transaction as a whole fails, e.g. with
   * `SLUICE_DATABASE_UNAVAILABLE`; the consumer then runs the events one by one with `runOnce`. An event's
   * `chain` is checked and stored as in `runOnce`; a refused event resolves `refused`, its record and
   * writes undone alone. The consumer never puts two events of one chain in one batch.
   */
  runBatch?(group: string, events: readonly BatchEvent<Tx>[]): Promise<BatchOutcome[]>;

  /**
   * For an event the consumer settles without applying it (skipped: no handler for its type; dead-lettered): in
   * one transaction, read the chain's stored sequence for `group` (locking it where the database can), call
   * `chain.check` with it, and store what it returns, resolving `passed`; or, when it returns `undefined`,
   * store nothing and resolve `refused`. Records no event id (a redriven dead letter must still apply). Throws
   * as `runOnce` does when the database is unreachable.
   */
  passChain(group: string, chain: ChainCheck): Promise<'passed' | 'refused'>;

  /**
   * Called once when a consumer of `group` starts, before it reads. In one transaction: if the group's start
   * is already recorded, resolve what was recorded; otherwise record and resolve `fromStart` when the inbox
   * holds nothing for the group (no applied event, no chain), or `false` when it does (a group that applied
   * events before chains were kept: its chains' beginnings were never seen). `true` means every chain of the
   * group is tracked from its first event, so a counter chain first seen above 1 is a gap.
   */
  startGroup(group: string, fromStart: boolean): Promise<boolean>;

  /** Releases what the store opened itself. Idempotent. */
  close(): Promise<void>;
}

/** One event of {@link InboxStore.runBatch}. */
export interface BatchEvent<Tx> {
  readonly eventId: string;
  readonly apply: (tx: Tx) => unknown;
  /** The event's chain, checked and stored as in `runOnce`. */
  readonly chain?: ChainCheck | undefined;
}

/** What {@link InboxStore.runBatch} did with one event. */
export type BatchOutcome =
  | { readonly status: 'applied' | 'duplicate' | 'refused' }
  | { readonly status: 'failed'; readonly error: unknown };
