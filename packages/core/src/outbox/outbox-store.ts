import type { RelayLease } from './relay-lease.js';

/** A committed outbox row, as the relay sees it. */
export interface OutboxRow {
  /** Store-defined position; rows of one key are read in increasing position. */
  readonly position: number;
  readonly id: string;
  readonly topic: string;
  readonly key: string;
  /** The encoded envelope, or null for a tombstone. */
  readonly value: string | null;
}

/** A batch of pending rows and where the next read continues. */
export interface OutboxBatch {
  readonly rows: OutboxRow[];
  /**
   * Opaque, store-defined position after this batch (SQLite: the last position; PostgreSQL: a transaction-id
   * window). Pass it to the next `readPending`.
   */
  readonly cursor: string | undefined;
}

/** An outbox row of one topic as {@link OutboxStore.listRows} returns it, for audits. */
export interface ListedOutboxRow {
  /** Store-defined position; listings are paged by it. */
  readonly position: number;
  readonly id: string;
  /** The CloudEvents `source` the row was appended with. */
  readonly source: string;
  readonly key: string;
  /** The row's gap-free counter sequence (source, topic and key). */
  readonly sequence: number;
  /** True when the relay has acknowledged (delivered) the row and the store still keeps it; false when pending. */
  readonly delivered: boolean;
}

/** A page of {@link ListedOutboxRow}s and where the next page starts. */
export interface OutboxListing {
  readonly rows: ListedOutboxRow[];
  /** Pass to the next `listRows`; `undefined` when this page was the last. */
  readonly cursor: string | undefined;
}

/** How far one chain (source, topic and key) of an outbox got, as {@link OutboxStore.listChains} returns it. */
export interface OutboxChain {
  readonly source: string;
  readonly key: string;
  /** The highest sequence ever appended to the chain and committed (its counter; 0 never occurs). */
  readonly appended: number;
}

/** A page of {@link OutboxChain}s and where the next page starts. */
export interface OutboxChainListing {
  readonly chains: OutboxChain[];
  /** Pass to the next `listChains`; `undefined` when this page was the last. */
  readonly cursor: string | undefined;
}

/** One key-hash partition of the outbox: who publishes it and how far behind it is. */
export interface OutboxPartitionStats {
  readonly partition: number;
  /** The relay instance holding this partition's lease, or null when none does (nobody publishes it). */
  readonly owner: string | null;
  /** Milliseconds until the owner's lease expires unless renewed; null without an owner. */
  readonly leaseExpiresInMs: number | null;
  readonly pending: number;
  readonly oldestPendingAgeMs: number | null;
}

/** What the relay reports about the outbox. */
export interface OutboxStats {
  readonly pending: number;
  /** Age of the oldest row not yet acknowledged, or null when the outbox is empty. */
  readonly oldestPendingAgeMs: number | null;
  /** Per key-hash partition: owner and lag (one entry for stores with a single lease). */
  readonly partitions: readonly OutboxPartitionStats[];
}

/**
 * The relay's view of an outbox table. Appending is store-specific (`append(tx, event)` on the store, in the
 * caller's transaction); this interface covers reading, acknowledging and coordinating relays.
 *
 * The store owns: returning only committed rows, in an order in which no row of a key is returned before an
 * earlier committed row of the same key, and never skipping a row that commits after a later-positioned one
 * was read; deleting (or marking) acknowledged rows; waking a waiting relay soon after a commit; the lease
 * that lets exactly one relay instance publish a given key at a time (one lease for the whole outbox, or one
 * per key-hash partition so that several instances share the work). It does not own publishing, batching,
 * retries or backoff: those are the relay's job.
 */
export interface OutboxStore {
  /** Short name for messages, e.g. `sqlite:app.db`. */
  readonly name: string;

  /**
   * Up to `limit` committed, unacknowledged rows after `cursor` (`undefined`: from the first pending row) whose
   * keys fall in `partitions` (the ones the caller's lease holds; every partition when omitted; ignored by
   * single-lease stores), rows
   * of one key in the order their transactions committed. Returns the rows and the cursor to continue from;
   * a row that commits later must still be returned by a later read (never skipped). Throws
   * `MigrationRequiredError` if the outbox table is missing.
   */
  readPending(
    cursor: string | undefined,
    limit: number,
    partitions?: readonly number[],
  ): Promise<OutboxBatch>;

  /** Deletes (or marks delivered) rows the transport acknowledged. Idempotent. */
  acknowledge(rows: readonly OutboxRow[]): Promise<void>;

  /**
   * Resolves when a new row may have committed, or after `timeoutMs`, or on abort: whichever is first.
   * Spurious wake-ups are allowed; missing a commit for longer than the timeout is not.
   */
  waitForAppend(timeoutMs: number, signal?: AbortSignal): Promise<void>;

  /**
   * Takes or renews `owner`'s share of the relay lease for `ttlMs` and returns the partitions it holds now
   * (none while other live owners hold them all). The store owns the split: live owners share the partitions
   * evenly, an owner over its share gives partitions up, and a partition whose owner failed to renew before
   * expiry goes to the next caller. Expiry must use one clock for every instance (the database's).
   */
  acquireLease(owner: string, ttlMs: number): Promise<RelayLease>;

  /** Gives up every partition `owner` holds, so the other instances take them over at once. */
  releaseLease(owner: string): Promise<void>;

  stats(): Promise<OutboxStats>;

  /**
   * Lists the rows of `topic` the store still holds, pending and delivered (`delivered` tells which), in
   * position order, up to `limit` per call after `cursor` (`undefined`: from the first), keyset-paged so a large
   * outbox streams. Tombstones (rows without a value) are left out. Used by `sluice audit` to compare the
   * outbox with what a topic holds.
   *
   * The store owns saying which rows are delivered and returning each row it holds at most once across the
   * pages of one listing. It does not own keeping delivered rows: a store that deletes them on acknowledgement
   * lists only what is left (the caller must not conclude anything about rows it does not see). A row that
   * commits during a listing at a position before the cursor may be missed. Optional: a store without it
   * cannot be audited against. Throws `MigrationRequiredError` if the outbox table is missing.
   */
  listRows?(topic: string, cursor: string | undefined, limit: number): Promise<OutboxListing>;

  /**
   * Lists every chain (source and key) of `topic` the outbox ever appended to, with its highest committed
   * sequence, up to `limit` per call after `cursor` (`undefined`: from the first), keyset-paged. Since rows
   * leave the outbox only when delivered, every sequence up to `appended` that is not pending was delivered:
   * an audit uses this to find delivered events missing at the end of a key, even when the delivered rows
   * are gone. The store owns keeping the counter of each chain (never lowering it, never reusing a number);
   * it does not own the rows. Optional, like `listRows`. Throws `MigrationRequiredError` if the tables are
   * missing.
   */
  listChains?(topic: string, cursor: string | undefined, limit: number): Promise<OutboxChainListing>;

  /** Releases what the store opened itself (never the caller's own connection). Idempotent. */
  close(): Promise<void>;
}
