import type { TopicPartition } from '../records.js';

/** A member of a group as its store last saw it. */
export interface StoredMember {
  readonly memberId: string;
  readonly topics: ReadonlySet<string>;
  /** When the member's last heartbeat runs out (ms since the epoch); it is dead after that. */
  readonly expiresAt: number;
}

/** A group's committed position in one partition: the offset of the next record to consume. */
export interface CommitPosition extends TopicPartition {
  readonly next: bigint;
}

/** What a store answers to a heartbeat. */
export type HeartbeatResult =
  /** Written. `previousExpiresAt` is when the member's previous heartbeat ran out, `undefined` if it had none. */
  | { readonly written: true; readonly previousExpiresAt: number | undefined }
  /** Not written now because the store was busy (e.g. another process holds a lock); try again later. */
  | { readonly written: false };

/** A claim's answer for one partition (transports that fence partitions, see {@link MembershipStore.claim}). */
export type ClaimAnswer =
  /** This member held the partition already and still does. */
  | 'held'
  /** The partition was free and is now this member's; another member may have read it meanwhile. */
  | 'taken'
  /** Another member still holds it: do not read it. */
  | 'denied';

/**
 * Where one consumer group's shared state lives on a transport's server: members' heartbeats, the group's
 * committed positions and, optionally, partition claims. {@link createGroupMember} runs the member cycle
 * over it, so the embedded log, Redis, NATS and the memory transport split partitions alike.
 *
 * The implementer owns: storing heartbeats, the member list and committed positions in its server, each write
 * atomic there (a commit never moves a position back; a heartbeat and the read of the previous one are one
 * step), and waking its own waiting polls when a member joins or leaves if it can. It does not own timing
 * (when to heartbeat, when a member is dead), assignment, where new partitions start, fetch order, or
 * coalescing and retrying commits: the engine does those, the same way for every transport.
 */
export interface MembershipStore {
  /**
   * Stores this member's heartbeat: alive until `now + sessionTimeoutMs`, subscribed to `topics`. `first` is
   * true for the member's first heartbeat (a store may announce the join). Returns when the previous heartbeat
   * ran out, so the engine can tell the member was considered dead meanwhile. Throws on a failure; returns
   * `{ written: false }` only when the write would have to wait (the engine tries again soon).
   */
  heartbeat(
    memberId: string,
    topics: readonly string[],
    now: number,
    first: boolean,
  ): Promise<HeartbeatResult>;

  /**
   * The group's members, dead ones included or not (the engine ignores those whose `expiresAt` is before
   * `now`). Read fresh from the server; a store may cache between heartbeats if its server pushes changes.
   */
  members(now: number): Promise<readonly StoredMember[]>;

  /** The group's committed position in each partition of `topic` listed, `undefined` where none. */
  committed(topic: string, partitions: readonly number[]): Promise<readonly (bigint | undefined)[]>;

  /**
   * Stores committed positions, each only if it is ahead of the stored one (where the server can compare;
   * the engine itself never writes a position behind one this member wrote or read). Returns `false` when the store
   * could not write them now without waiting (busy, or its server unreachable and the caller should not
   * fail): the engine keeps them and writes them with the next commit, poll or leave. Throws on any other
   * failure (the engine keeps them too, and rethrows).
   */
  commit(positions: readonly CommitPosition[]): Promise<boolean>;

  /**
   * Leaves the group: writes `pending` commits, removes the member, releases its claims (`owned`) and tells
   * the others if it can. Failing to reach the server is not an error here (the member then times out, as if
   * it had crashed); any other failure is thrown.
   */
  leave(
    memberId: string,
    pending: readonly CommitPosition[],
    owned: readonly TopicPartition[],
  ): Promise<void>;

  /**
   * Optional fencing, for stores whose members could otherwise read a partition at the same time: claims (or
   * renews) `wanted` for this member and releases `release`, atomically, each claim expiring after the
   * session timeout unless renewed. Answers one {@link ClaimAnswer} per `wanted` partition, in order. Without
   * it every assigned partition counts as held.
   */
  claim?(
    memberId: string,
    wanted: readonly TopicPartition[],
    release: readonly TopicPartition[],
  ): Promise<readonly ClaimAnswer[]>;
}
