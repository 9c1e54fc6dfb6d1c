import type { ConsumedRecord } from '../records.js';
import type { MembershipStore } from './membership-store.js';

/** This member's fetch position in one partition it owns; the transport's fetch advances `next`. */
export interface PartitionCursor {
  readonly topic: string;
  readonly partition: number;
  /** The offset of the next record to return. */
  next: bigint;
}

/** The clock and timer the engine uses; tests inject a fake one. */
export interface GroupClock {
  now(): number;
  /** Calls `fn` every `ms` until the returned function is called; must not keep the process alive. */
  every(ms: number, fn: () => void): () => void;
}

/** Options of {@link createGroupMember}. */
export interface GroupMemberOptions {
  /** Where the group's state lives; unused by an ephemeral reader. */
  readonly store: MembershipStore;
  readonly memberId: string;
  /** The topics subscribed to. */
  readonly topics: readonly string[];
  /** Where a partition with no committed position starts. */
  readonly startFrom: 'earliest' | 'latest';
  /** An ephemeral reader owns every partition, joins no group and commits nothing. */
  readonly ephemeral?: boolean;
  readonly heartbeatIntervalMs: number;
  readonly sessionTimeoutMs: number;
  /** A topic's partition count, `undefined` if it does not exist. */
  readonly partitionCount: (topic: string) => number | undefined | Promise<number | undefined>;
  /** The offset after the last record of each partition listed (where `startFrom: 'latest'` starts). */
  readonly latest: (topic: string, partitions: readonly number[]) => Promise<readonly bigint[]>;
  /**
   * Reads records of the cursors, given in this poll's round-robin order, up to `maxRecords` in all, advancing
   * each cursor past what it returns (and past what it skips, such as expired records).
   */
  readonly fetch: (cursors: readonly PartitionCursor[], maxRecords: number) => Promise<ConsumedRecord[]>;
  /** Waits until records may be ready, the group may have changed, `until` (ms since the epoch) or abort. */
  readonly wait: (until: number, signal: AbortSignal | undefined) => Promise<void>;
  /**
   * When set, a poll that fails with a retryable error pauses this long and tries again until its deadline
   * (riding out a server restart) instead of failing.
   */
  readonly retryPauseMs?: number;
  /**
   * Whether a poll heartbeats when one is due (default true). False: only `start()` and the timer (every
   * `heartbeatIntervalMs`) heartbeat, so a slow heartbeat write never delays a poll.
   */
  readonly heartbeatOnPoll?: boolean;
  /**
   * Whether a poll writes commits left over from a failed write (default true). False: only the next
   * `commit` and `leave` write them, so a slow server never delays a poll for a commit.
   */
  readonly flushOnPoll?: boolean;
  /**
   * When true, a failed membership refresh (heartbeat, member read, claim, seeding) does not fail `start`,
   * `poll` or `seek`: the member keeps its last assignment and tries again on the next poll; a partition whose
   * start position could not be read is owned but not read until it can be. Default false (the error is
   * thrown, or retried by `retryPauseMs`).
   */
  readonly keepAssignmentOnFailure?: boolean;
  /** Parses a committed record's offset; default: a non-negative decimal integer, else `SLUICE_INVALID_OFFSET`. */
  readonly parseOffset?: (offset: string) => bigint;
  /** Called when the member finds it was considered dead: its positions restart from the committed ones. */
  readonly onLost?: () => void;
  readonly clock?: GroupClock;
}

/** The real clock: `Date.now` and an unref'd interval. */
export const systemClock: GroupClock = {
  now: () => Date.now(),
  every(ms, fn) {
    const timer = setInterval(fn, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};
