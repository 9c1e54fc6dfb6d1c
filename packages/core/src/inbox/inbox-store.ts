/**
 * The consumer's inbox: the record, in the consumer's own database, of which events a consumer group has
 * applied, so a redelivered event is skipped.
 *
 * The store owns: running the handler and recording the event id in ONE transaction of the consumer's
 * database, so either both happen or neither; answering `duplicate` without running the handler when the id is
 * already recorded for the group. It does not own retries, ordering or dead letters: the consumer runtime does.
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
   */
  runOnce(group: string, eventId: string, apply: (tx: Tx) => unknown): Promise<'applied' | 'duplicate'>;

  /**
   * Optional: several events in ONE transaction (one commit, one disk flush for all), for throughput. In
   * order: an event already recorded for `group` (or earlier in this batch) is `duplicate` and its `apply` is
   * not called; otherwise its `apply` runs and the event is recorded. If one `apply` throws, only that event's
   * writes and record are undone (a savepoint), it resolves `failed` with the error, and the others still
   * commit. Throws (nothing committed) only when the transaction as a whole fails, e.g. with
   * `SLUICE_DATABASE_UNAVAILABLE`; the consumer then runs the events one by one with `runOnce`.
   */
  runBatch?(group: string, events: readonly BatchEvent<Tx>[]): Promise<BatchOutcome[]>;

  /** Releases what the store opened itself. Idempotent. */
  close(): Promise<void>;
}

/** One event of {@link InboxStore.runBatch}. */
export interface BatchEvent<Tx> {
  readonly eventId: string;
  readonly apply: (tx: Tx) => unknown;
}

/** What {@link InboxStore.runBatch} did with one event. */
export type BatchOutcome =
  | { readonly status: 'applied' | 'duplicate' }
  | { readonly status: 'failed'; readonly error: unknown };
