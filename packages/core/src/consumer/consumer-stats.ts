/** What a consumer has done since it started, and what it holds now. */
export interface ConsumerStats {
  readonly applied: number;
  readonly duplicates: number;
  readonly retries: number;
  readonly deadLettered: number;
  readonly skipped: number;
  /** Records held in memory now. */
  readonly buffered: number;
  /** Keys whose head event is waiting for a retry. */
  readonly waitingKeys: number;
  /** Events found with a gap before them or out of order in their chain (each counted once). */
  readonly gaps: number;
  /** Keys whose head event is held now for a gap or order (`onGap: 'hold'`). */
  readonly heldKeys: number;
}
