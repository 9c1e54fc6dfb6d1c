import { sleep } from '../../util/sleep.js';
import type { ConsumedRecord, PollOptions, TopicPartition } from '../records.js';
import { invalidOffsetError } from '../transport-errors.js';
import { assignPartitions } from './assign-partitions.js';
import type { AssignableMember } from './assignable-member.js';
import { type GroupMemberOptions, type PartitionCursor, systemClock } from './group-member-options.js';
import type { CommitPosition } from './membership-store.js';

/** A poll heartbeats at most this often, or every half heartbeat interval if longer (spares writes). */
const POLL_HEARTBEAT_GAP_MS = 50;
/** How soon a member asks again for partitions another member has not released yet. */
const CLAIM_RETRY_MS = 25;

/** Where a newly owned partition starts, and the group's committed position there if any. */
type Start = { readonly next: bigint; readonly committed: bigint | undefined };

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;
const isRetryable = (error: unknown) => (error as { retryable?: unknown })?.retryable === true;

/**
 * One member's side of a consumer group, run the same way on every transport that keeps groups itself: it
 * heartbeats on poll and on a timer while idle, reads the live members and computes its partitions with
 * {@link assignPartitions} on every poll (so all processes agree without a coordinator), claims them when
 * the store fences partitions, starts newly owned ones at the committed position (else `startFrom`), fetches
 * round-robin across them, coalesces commits and writes them forward only, and releases everything on leave.
 * A member that finds it was considered dead drops its positions and restarts from the committed ones.
 */
export class GroupMember {
  readonly #o: GroupMemberOptions;
  readonly #clock;
  readonly #topics: readonly string[];
  #cursors = new Map<string, PartitionCursor>();
  #assignment: readonly TopicPartition[] = [];
  /** Partitions this member holds a claim on (stores with `claim` only). */
  readonly #owned = new Map<string, TopicPartition>();
  #pending = new Map<string, CommitPosition>();
  /** Per owned partition, the highest position written by this member or read from the store. */
  #written = new Map<string, bigint>();
  #flushing: Promise<unknown> = Promise.resolve();
  #lastBeat = 0;
  #lastBeatOk = 0;
  #joined = false;
  #lost = false;
  #nextChange = Number.POSITIVE_INFINITY;
  #rotor = 0;
  #beating = false;
  #stopTimer: (() => void) | undefined;
  #closed = false;
  #left = false;
  readonly #parseOffset: (offset: string) => bigint;

  constructor(options: GroupMemberOptions) {
    this.#o = options;
    this.#parseOffset =
      options.parseOffset ??
      ((offset) => {
        if (typeof offset !== 'string' || !/^\d{1,30}$/.test(offset)) {
          throw invalidOffsetError(`consumer group member ${options.memberId}`, offset);
        }
        return BigInt(offset);
      });
    this.#clock = options.clock ?? systemClock;
    this.#topics = [...new Set(options.topics)].sort();
  }

  /** Joins the group (first heartbeat and assignment) and starts the idle heartbeat timer. */
  async start(): Promise<void> {
    if (!this.#o.ephemeral) await this.#tolerant(() => this.#heartbeat(this.#clock.now()));
    await this.#tolerant(() => this.refresh());
    if (!this.#o.ephemeral) {
      this.#stopTimer = this.#clock.every(this.#o.heartbeatIntervalMs, () => this.#idleHeartbeat());
    }
  }

  /** Runs a membership step; with `keepAssignmentOnFailure`, a failure is left for the next poll. */
  async #tolerant(step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (error) {
      if (!this.#o.keepAssignmentOnFailure) throw error;
    }
  }

  get memberId(): string {
    return this.#o.memberId;
  }

  /** The partitions owned as of the last refresh (a new array only when it changed). */
  assignment(): readonly TopicPartition[] {
    return this.#assignment;
  }

  /** When the membership may change next (a member's heartbeat runs out, a claim to retry). */
  get nextChange(): number {
    return this.#nextChange;
  }

  /** The cursor of an owned partition, `undefined` if not owned. */
  cursor(topic: string, partition: number): PartitionCursor | undefined {
    return this.#cursors.get(tpKey(topic, partition));
  }

  /** The cursors of the owned partitions. */
  cursors(): IterableIterator<PartitionCursor> {
    return this.#cursors.values();
  }

  /**
   * Refreshes membership, fetches round-robin and waits (through the transport's `wait`) until records come,
   * the deadline or abort. Returns `[]` on timeout, abort or stop.
   */
  async poll(options: PollOptions): Promise<ConsumedRecord[]> {
    const { maxRecords, maxWaitMs, signal } = options;
    const deadline = this.#clock.now() + maxWaitMs;
    for (;;) {
      if (this.#closed || signal?.aborted) return [];
      let records: ConsumedRecord[];
      try {
        await this.#tolerant(() => this.refresh());
        if (this.#o.flushOnPoll !== false) await this.flush();
        records = await this.#fetch(maxRecords);
      } catch (error) {
        if (this.#closed) return [];
        const pause = this.#o.retryPauseMs;
        if (pause === undefined || !isRetryable(error)) throw error;
        const left = deadline - this.#clock.now();
        if (left <= 0) return [];
        await sleep(Math.min(pause, left), signal);
        continue;
      }
      if (this.#closed) return [];
      if (records.length > 0 || this.#clock.now() >= deadline) return records;
      await this.#o.wait(Math.min(deadline, this.#nextChange), signal);
    }
  }

  /** Heartbeats if due, reads the live members, recomputes and claims this member's partitions. */
  async refresh(): Promise<void> {
    const o = this.#o;
    if (o.ephemeral) {
      if (this.#cursors.size > 0 || this.#assignment.length > 0) return;
      const all: TopicPartition[] = [];
      for (const topic of this.#topics) {
        const count = (await o.partitionCount(topic)) ?? 0;
        for (let partition = 0; partition < count; partition++) all.push({ topic, partition });
      }
      await this.#assign(all);
      return;
    }
    const now = this.#clock.now();
    const beat =
      o.heartbeatOnPoll !== false &&
      now - this.#lastBeat >= Math.max(POLL_HEARTBEAT_GAP_MS, o.heartbeatIntervalMs / 2);
    if (beat) await this.#heartbeat(now);
    const stored = await o.store.members(now);
    const live: AssignableMember[] = [];
    let nextChange = Number.POSITIVE_INFINITY;
    for (const m of stored) {
      if (m.memberId === o.memberId || m.expiresAt < now) continue;
      nextChange = Math.min(nextChange, m.expiresAt + 1);
      live.push(m);
    }
    live.push({ memberId: o.memberId, topics: new Set(this.#topics) });
    this.#nextChange = nextChange;
    if (this.#lost) {
      this.#lost = false;
      this.#cursors.clear();
      o.onLost?.();
    }
    const counts = new Map<string, number>();
    for (const topic of new Set(live.flatMap((m) => [...m.topics]))) {
      const count = await o.partitionCount(topic);
      if (count !== undefined) counts.set(topic, count);
    }
    const wanted = assignPartitions(live, (topic) => counts.get(topic), o.memberId);
    let owned = wanted;
    if (o.store.claim !== undefined) {
      const wantedKeys = new Set(wanted.map((tp) => tpKey(tp.topic, tp.partition)));
      const release = [...this.#owned].filter(([key]) => !wantedKeys.has(key)).map(([, tp]) => tp);
      const missing = wanted.some((tp) => !this.#owned.has(tpKey(tp.topic, tp.partition)));
      owned = wanted.filter((tp) => this.#owned.has(tpKey(tp.topic, tp.partition)));
      if (beat || release.length > 0 || missing) {
        const answers = await o.store.claim(o.memberId, wanted, release);
        for (const tp of release) this.#owned.delete(tpKey(tp.topic, tp.partition));
        owned = this.#claimed(wanted, answers);
      }
      // Partitions another member has not released yet: ask again soon.
      if (owned.length < wanted.length)
        this.#nextChange = Math.min(this.#nextChange, this.#clock.now() + CLAIM_RETRY_MS);
    }
    await this.#assign(owned);
  }

  /** Coalesces the records' positions (owned partitions only, forward only) and writes them. */
  async commit(records: readonly ConsumedRecord[]): Promise<void> {
    if (this.#o.ephemeral) return;
    for (const record of records) {
      const key = tpKey(record.topic, record.partition);
      if (!this.#cursors.has(key)) continue;
      const next = this.#parseOffset(record.offset) + 1n;
      if (next <= (this.#written.get(key) ?? -1n)) continue; // commits never move back
      const seen = this.#pending.get(key);
      if (seen === undefined || next > seen.next)
        this.#pending.set(key, { topic: record.topic, partition: record.partition, next });
    }
    await this.flush();
  }

  /** Writes the commits not written yet, one write at a time so a position never moves back. */
  flush(): Promise<void> {
    const run = async () => {
      if (this.#pending.size === 0) return;
      const pending = this.#pending;
      this.#pending = new Map();
      let written = false;
      try {
        written = await this.#o.store.commit([...pending.values()]);
      } finally {
        if (!written) this.#restore(pending);
      }
      for (const [key, c] of pending) {
        if (c.next > (this.#written.get(key) ?? -1n)) this.#written.set(key, c.next);
      }
    };
    const flushing = this.#flushing.then(run, run);
    this.#flushing = flushing.catch(() => undefined);
    return flushing;
  }

  /** Moves the cursors of owned partitions of `topic` listed; `positionsOf` resolves where. */
  async seek(
    topic: string,
    partitions: readonly number[],
    positionsOf: (partitions: readonly number[]) => Promise<readonly bigint[]>,
  ): Promise<void> {
    await this.#tolerant(() => this.refresh());
    const owned = partitions.filter((p) => this.#cursors.has(tpKey(topic, p)));
    if (owned.length === 0) return;
    const positions = await positionsOf(owned);
    owned.forEach((p, i) => {
      const cursor = this.#cursors.get(tpKey(topic, p));
      if (cursor !== undefined) cursor.next = positions[i]!;
    });
  }

  /**
   * Stops the timer, writes pending commits, leaves the group and releases its claims. Idempotent, and also
   * leaves after `stop()`.
   */
  async leave(): Promise<void> {
    if (this.#left) return;
    this.#left = true;
    this.stop();
    if (this.#o.ephemeral) return;
    await this.#flushing;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    await this.#o.store.leave(this.#o.memberId, pending, [...this.#owned.values()]);
  }

  /** Stops heartbeating without leaving, as if the process died (the member times out). */
  stop(): void {
    this.#closed = true;
    this.#stopTimer?.();
    this.#stopTimer = undefined;
  }

  #restore(pending: Map<string, CommitPosition>): void {
    for (const [key, c] of pending) {
      const now = this.#pending.get(key);
      if (now === undefined || now.next < c.next) this.#pending.set(key, c);
    }
  }

  #idleHeartbeat(): void {
    const now = this.#clock.now();
    if (this.#closed || this.#beating || now - this.#lastBeat < this.#o.heartbeatIntervalMs / 2) return;
    this.#beating = true;
    const renew = async () => {
      await this.#heartbeat(now);
      const owned = [...this.#owned.values()];
      const claim = this.#o.store.claim;
      if (owned.length > 0 && claim !== undefined && !this.#closed) {
        this.#claimed(owned, await claim.call(this.#o.store, this.#o.memberId, owned, []));
      }
    };
    // A failure here is retried by the next poll (or tick), which reports a lasting one.
    renew()
      .catch(() => undefined)
      .finally(() => {
        this.#beating = false;
      });
  }

  async #heartbeat(now: number): Promise<void> {
    const o = this.#o;
    const result = await o.store.heartbeat(o.memberId, this.#topics, now, !this.#joined);
    if (!result.written) return; // busy: the next poll (or the timer) tries again, within the session
    const expired = result.previousExpiresAt === undefined || result.previousExpiresAt < now;
    const silent = this.#lastBeatOk > 0 && now - this.#lastBeatOk > o.sessionTimeoutMs;
    if (this.#joined && (expired || silent)) this.#lost = true;
    this.#joined = true;
    this.#lastBeat = Math.max(this.#lastBeat, now);
    this.#lastBeatOk = Math.max(this.#lastBeatOk, now);
  }

  /**
   * Applies claim answers: `held` and `taken` partitions are owned, but a `taken` one this member had a
   * cursor in restarts from the committed position (another member may have read it); `denied` ones are
   * neither owned nor read. Returns the partitions owned.
   */
  #claimed(wanted: readonly TopicPartition[], answers: readonly string[]): TopicPartition[] {
    const owned: TopicPartition[] = [];
    wanted.forEach((tp, i) => {
      const key = tpKey(tp.topic, tp.partition);
      const answer = answers[i] ?? 'denied';
      if (answer !== 'held') this.#cursors.delete(key);
      if (answer === 'denied') this.#owned.delete(key);
      else {
        this.#owned.set(key, tp);
        owned.push(tp);
      }
    });
    return owned;
  }

  /** Keeps cursors of partitions still owned; starts new ones at the committed position, else `startFrom`. */
  async #assign(partitions: readonly TopicPartition[]): Promise<void> {
    const o = this.#o;
    const cursors = new Map<string, PartitionCursor>();
    const missing = new Map<string, number[]>();
    for (const { topic, partition } of partitions) {
      const key = tpKey(topic, partition);
      const known = this.#cursors.get(key);
      if (known !== undefined) cursors.set(key, known);
      else missing.set(topic, [...(missing.get(topic) ?? []), partition]);
    }
    for (const [topic, list] of missing) {
      let starts: Start[];
      try {
        starts = await this.#startsOf(topic, list);
      } catch (error) {
        if (!o.keepAssignmentOnFailure) throw error;
        continue; // owned, not read until its start can be read
      }
      list.forEach((partition, i) => {
        const key = tpKey(topic, partition);
        const start = starts[i]!;
        cursors.set(key, { topic, partition, next: start.next });
        if (start.committed === undefined) this.#written.delete(key);
        else this.#written.set(key, start.committed);
      });
    }
    this.#cursors = cursors;
    const same =
      this.#assignment.length === partitions.length &&
      this.#assignment.every(
        (tp, i) => tp.topic === partitions[i]!.topic && tp.partition === partitions[i]!.partition,
      );
    if (!same) this.#assignment = Object.freeze(partitions.map((tp) => Object.freeze({ ...tp })));
  }

  /** Where newly owned partitions of `topic` start: the committed position, else `startFrom`. */
  async #startsOf(topic: string, partitions: readonly number[]): Promise<Start[]> {
    const o = this.#o;
    const committed = o.ephemeral
      ? partitions.map(() => undefined)
      : await o.store.committed(topic, partitions);
    const fallback =
      o.startFrom === 'latest' && committed.some((c) => c === undefined)
        ? await o.latest(topic, partitions)
        : partitions.map(() => 0n);
    return partitions.map((_, i) => ({ next: committed[i] ?? fallback[i]!, committed: committed[i] }));
  }

  /** One round-robin fetch: each poll starts with the next partition in turn. */
  async #fetch(maxRecords: number): Promise<ConsumedRecord[]> {
    const assigned = this.#assignment;
    const n = assigned.length;
    if (n === 0) return [];
    const start = this.#rotor++ % n;
    const order: PartitionCursor[] = [];
    for (let i = 0; i < n; i++) {
      const { topic, partition } = assigned[(start + i) % n]!;
      const cursor = this.#cursors.get(tpKey(topic, partition));
      if (cursor !== undefined) order.push(cursor);
    }
    return this.#o.fetch(order, maxRecords);
  }
}

/** Creates a group member (not started: call `start()`), or an ephemeral reader of every partition. */
export function createGroupMember(options: GroupMemberOptions): GroupMember {
  return new GroupMember(options);
}
