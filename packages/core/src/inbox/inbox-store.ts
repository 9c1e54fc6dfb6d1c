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

  /** Releases what the store opened itself. Idempotent. */
  close(): Promise<void>;
}
