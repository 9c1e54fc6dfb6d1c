import { randomUUID } from 'node:crypto';
import {
  ClosedError,
  type ConsumedRecord,
  InvalidOptionError,
  type PollOptions,
  type SeekTarget,
  type SubscribeOptions,
  type Subscription,
  type TopicPartition,
} from '@sluice/core';
import {
  checkPollOptions,
  checkSubscribeOptions,
  createGroupMember,
  type GroupMember,
  type PartitionCursor,
} from '@sluice/core/adapter';

import { REDIS_NAME } from './redis-errors.js';
import {
  type FetchRequest,
  fetchPartitions,
  oldestVisible,
  partitionsOf,
  positionsOf,
} from './redis-fetch.js';
import type { RedisKeys } from './redis-keys.js';
import { RedisMembershipStore } from './redis-membership-store.js';
import { idOfOffset, laterOffset, parseOffset } from './redis-offsets.js';
import type { ResolvedRedisOptions } from './redis-options.js';
import type { RedisClient, RedisTopics } from './redis-topics.js';
import { RedisWaiter } from './redis-waiter.js';

/** What a subscription shares with its transport. */
export interface RedisContext {
  readonly client: RedisClient;
  readonly keys: RedisKeys;
  readonly topics: RedisTopics;
  readonly options: ResolvedRedisOptions;
}

/** How long a poll pauses before trying again when the server cannot be reached. */
const RETRY_PAUSE_MS = 100;

/**
 * One member of a consumer group on Redis Streams (or an ephemeral reader of every partition).
 *
 * Membership: core's group engine runs the member cycle (heartbeats on poll and by a timer, assignment from
 * the live members, claims, seeding, round-robin fetch, coalesced commits) over a {@link RedisMembershipStore}:
 * the member's heartbeat expiry is its score in the group's `members` sorted set; joins and leaves append to
 * the group's `changes` stream, which waiting members watch, so they rebalance at once.
 *
 * Ownership: a member reads a partition only while it holds the partition's claim (a key with its member id
 * and a TTL of the session timeout, renewed with each heartbeat). A partition the assignment moves is released
 * by its old owner at its next poll (or when it leaves, or its claim expires when it dies) before the new owner
 * claims it, so no partition is read by two members at once.
 *
 * Positions: records are read with XRANGE from the member's in-memory fetch position; nothing is prefetched,
 * so a member that does not poll holds nothing. The committed position of each partition is the next offset to
 * consume, in the group's `committed` hash (forward only). A newly assigned partition (or one of a member that
 * was considered dead) starts at the committed position, so records polled but not committed reach the next
 * owner, committed ones never. Redis's own consumer groups (XREADGROUP/XACK/XAUTOCLAIM) are not used: they
 * hand entries of one stream to several consumers (breaking per-key order) and move their last-delivered id on
 * delivery rather than on commit, so the pending list would have to be replayed in order by hand.
 *
 * Waiting: a dedicated connection runs `XREAD BLOCK` on the assigned streams and the `changes` stream, so a
 * publish wakes the poll as soon as Redis appends it; abort and close unblock it (`CLIENT UNBLOCK`).
 */
export class RedisSubscription implements Subscription {
  readonly #ctx: RedisContext;
  readonly #group: string;
  readonly #topics: readonly string[];
  readonly #ephemeral: boolean;
  readonly #onClose: (subscription: RedisSubscription) => void;
  readonly #store: RedisMembershipStore;
  readonly #member: GroupMember;
  readonly #waiter: RedisWaiter;
  #closed = false;

  private constructor(ctx: RedisContext, options: SubscribeOptions, onClose: (s: RedisSubscription) => void) {
    this.#ctx = ctx;
    this.#group = options.group;
    const memberId = options.memberId ?? randomUUID();
    this.#topics = [...new Set(options.topics)].sort();
    this.#ephemeral = options.ephemeral === true;
    this.#onClose = onClose;
    this.#waiter = new RedisWaiter(
      ctx.client,
      `sluice-wait:${this.#group}:${memberId}`.replace(/[^\x21-\x7e]/g, '_'),
    );
    const { client, keys, topics } = ctx;
    this.#store = new RedisMembershipStore(client, keys, options.group, ctx.options.sessionTimeoutMs);
    this.#member = createGroupMember({
      store: this.#store,
      memberId,
      topics: this.#topics,
      startFrom: options.startFrom ?? 'earliest',
      ephemeral: this.#ephemeral,
      heartbeatIntervalMs: ctx.options.heartbeatIntervalMs,
      sessionTimeoutMs: ctx.options.sessionTimeoutMs,
      partitionCount: async (topic) => (await topics.find(topic))?.partitions,
      latest: async (topic, partitions) =>
        positionsOf(client, keys, await topics.get(topic), partitions, { to: 'latest' }),
      fetch: (cursors, maxRecords) => this.#fetch(cursors, maxRecords),
      wait: (until, signal) => this.#wait(until, signal),
      retryPauseMs: RETRY_PAUSE_MS,
      parseOffset,
    });
  }

  /** Joins the group (or starts an ephemeral reader). Use `RedisTransport.subscribe`. */
  static async open(
    ctx: RedisContext,
    options: SubscribeOptions,
    onClose: (s: RedisSubscription) => void,
  ): Promise<RedisSubscription> {
    checkSubscribeOptions(options);
    for (const topic of options.topics) await ctx.topics.get(topic);
    const subscription = new RedisSubscription(ctx, options, onClose);
    try {
      await subscription.#member.start();
    } catch (error) {
      subscription.#member.stop();
      subscription.#waiter.close();
      throw error;
    }
    return subscription;
  }

  /** The name (CLIENT SETNAME) of the connection a waiting poll blocks on. */
  get waitConnectionName(): string {
    return this.#waiter.name;
  }

  /** This member's id in the group. */
  get memberId(): string {
    return this.#member.memberId;
  }

  /**
   * Returns the next records; rides out a server restart (the client reconnects by itself) by trying again
   * until the deadline instead of failing.
   */
  async poll(options: PollOptions): Promise<ConsumedRecord[]> {
    this.#ensureOpen();
    checkPollOptions(options);
    return this.#member.poll(options);
  }

  /**
   * Writes the positions (forward only). If the server cannot be reached they are kept and written with the
   * next commit or poll: a commit that comes late only means a crash redelivers a little more.
   */
  async commit(records: readonly ConsumedRecord[]): Promise<void> {
    this.#ensureOpen();
    await this.#member.commit(records);
  }

  assignment(): readonly TopicPartition[] {
    return this.#member.assignment();
  }

  async seek(topic: string, target: SeekTarget): Promise<void> {
    this.#ensureOpen();
    if (!this.#topics.includes(topic)) {
      throw new InvalidOptionError(
        'seek',
        'topic',
        `${topic} is not one of this subscription's topics (${this.#topics})`,
      );
    }
    const meta = await this.#ctx.topics.get(topic);
    await this.#member.seek(topic, partitionsOf(meta, target), (partitions) =>
      positionsOf(this.#ctx.client, this.#ctx.keys, meta, partitions, target),
    );
  }

  /**
   * Writes pending commits and leaves the group. If the server cannot be reached, it does not fail: the member
   * then times out after `sessionTimeoutMs`, as if it had crashed.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#stop();
    await this.#member.leave();
  }

  /** Stops without leaving the group, as if the process died (the member times out). For fault tests. */
  abandon(): void {
    if (!this.#closed) this.#stop();
  }

  #stop(): void {
    this.#closed = true;
    this.#member.stop();
    this.#waiter.close();
    this.#onClose(this);
  }

  #ensureOpen(): void {
    if (this.#closed) throw new ClosedError(`${REDIS_NAME} subscription of group ${this.#group}`);
  }

  /**
   * Reads the next records of the cursors, at most `maxRecords` in all. First a fair share of each partition
   * in one round trip; if that leaves room and some partitions had more, a second round trip reads on from
   * those. Records not returned are not kept: a cursor only moves past what is returned.
   */
  async #fetch(cursors: readonly PartitionCursor[], maxRecords: number): Promise<ConsumedRecord[]> {
    const n = cursors.length;
    if (n === 0) return [];
    const now = Date.now();
    const out: ConsumedRecord[] = [];
    const share = Math.ceil(maxRecords / n);
    const more = await this.#fetchInto(cursors, share, maxRecords, now, out);
    if (more.length > 0 && out.length < maxRecords) {
      await this.#fetchInto(more, maxRecords - out.length, maxRecords, now, out);
    }
    return out;
  }

  /** Fetches up to `limit` records of each cursor into `out` (up to `maxRecords` in all); returns the
   * cursors that may have more. */
  async #fetchInto(
    cursors: readonly PartitionCursor[],
    limit: number,
    maxRecords: number,
    now: number,
    out: ConsumedRecord[],
  ): Promise<PartitionCursor[]> {
    const requests: FetchRequest[] = [];
    for (const c of cursors)
      requests.push({ topic: await this.#ctx.topics.get(c.topic), partition: c.partition, next: c.next });
    const results = await fetchPartitions(this.#ctx.client, this.#ctx.keys, requests, limit, now);
    const more: PartitionCursor[] = [];
    results.forEach((result, i) => {
      const cursor = cursors[i]!;
      // Cursors replaced or moved while fetching (a seek, a lost membership) are left as they are.
      if (this.#member.cursor(cursor.topic, cursor.partition) !== cursor) return;
      if (cursor.next !== requests[i]!.next) return;
      const room = maxRecords - out.length;
      if (room <= 0) return;
      if (result.records.length <= room) {
        out.push(...result.records);
        cursor.next = result.next;
        if (result.records.length === limit) more.push(cursor);
      } else {
        const taken = result.records.slice(0, room);
        out.push(...taken);
        cursor.next = BigInt(taken[taken.length - 1]!.offset) + 1n;
      }
    });
    return more;
  }

  /** Waits until a record may be ready in an owned stream, the group changes, `until`, abort or close. */
  async #wait(until: number, signal: AbortSignal | undefined): Promise<void> {
    const ms = until - Date.now();
    if (ms <= 0) return;
    const block = Math.max(1, Math.ceil(Math.min(ms, this.#ctx.options.heartbeatIntervalMs)));
    const now = Date.now();
    const streams: string[] = [];
    const ids: string[] = [];
    for (const cursor of this.#member.cursors()) {
      const meta = await this.#ctx.topics.get(cursor.topic);
      const next = laterOffset(cursor.next, oldestVisible(meta, now));
      streams.push(this.#ctx.keys.stream(cursor.topic, cursor.partition));
      ids.push(next === 0n ? '0-0' : idOfOffset(next - 1n));
    }
    if (!this.#ephemeral) {
      streams.push(this.#ctx.keys.changes(this.#group));
      ids.push(this.#store.changesId);
    }
    await this.#waiter.block(streams, ids, block, signal);
  }
}
