/** What a consumer has done since it started, and what it holds now. */
export interface ConsumerStats {
  readonly applied: number;
  readonly duplicates: number;
  readonly retries: number;
  readonly deadLettered: number;
  readonly skipped: number;
  /**
   * Records received of a deprecated contract version produced on or after its `since` date (each record once,
   * applied or not): someone still produces it. A warning naming the source is logged once per version.
   */
  readonly deprecatedReceived: number;
  /** Records held in memory now. */
  readonly buffered: number;
  /** Keys whose head event is waiting for a retry. */
  readonly waitingKeys: number;
  /** Events found with a gap before them or out of order in their chain (each counted once). */
  readonly gaps: number;
  /** Keys whose head event is held now for a gap or order (`onGap: 'hold'`). */
  readonly heldKeys: number;
  /** Whether the consumer has joined its group (it polls). */
  readonly joined: boolean;
  /** The partitions assigned to this member at its last poll. */
  readonly partitions: number;
  /** Since when (ms since the epoch) polls have been failing in a row (the transport is away); null when not. */
  readonly failingSince: number | null;
  /** The last poll failure, while polls fail. */
  readonly lastError: { readonly code: string; readonly message: string } | null;
}
