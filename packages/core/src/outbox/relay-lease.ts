/** What a relay instance may publish, as granted by {@link OutboxStore.acquireLease}. */
export interface RelayLease {
  /**
   * The key-hash partitions of the outbox this owner holds now, ascending. Only this owner publishes rows of
   * keys in them until the lease expires. Empty: stand by.
   */
  readonly partitions: readonly number[];
  /** How many partitions the outbox's key space is split into (1: one relay publishes everything). */
  readonly partitionCount: number;
}
