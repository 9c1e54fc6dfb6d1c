import { randomUUID } from 'node:crypto';
import {
  ClosedError,
  type ConsumedRecord,
  InvalidOptionError,
  isRetryable,
  type PollOptions,
  type SeekTarget,
  type SubscribeOptions,
  type Subscription,
  type TopicPartition,
} from '@sluice/core';
import {
  type AssignableMember,
  assignPartitions,
  checkPollOptions,
  checkSubscribeOptions,
} from '@sluice/core/adapter';

import { brokerError, REDIS_NAME } from './redis-errors.js';
import {
  type FetchRequest,
  fetchPartitions,
  oldestVisible,
  partitionsOf,
  positionsOf,
} from './redis-fetch.js';
import type { RedisKeys } from './redis-keys.js';
import { idOfOffset, laterOffset, parseOffset } from './redis-offsets.js';
import type { ResolvedRedisOptions } from './redis-options.js';
import { hashEntries, scoreEntries } from './redis-replies.js';
import { CLAIM_SCRIPT, COMMIT_SCRIPT } from './redis-scripts.js';
import type { RedisClient, RedisTopic, RedisTopics } from './redis-topics.js';
import { RedisWaiter } from './redis-waiter.js';

/** What a subscription shares with its transport. */
export interface RedisContext {
  readonly client: RedisClient;
  readonly keys: RedisKeys;
  readonly topics: RedisTopics;
  readonly options: ResolvedRedisOptions;
}

interface Position {
  readonly topic: RedisTopic;
  readonly partition: number;
  /** The offset of the next record to deliver. */
  next: bigint;
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;
/** A poll heartbeats at most this often (the timer heartbeats an idle or waiting member). */
const POLL_HEARTBEAT_GAP_MS = 50;
/** How long a poll pauses before trying again when the server cannot be reached. */
const RETRY_PAUSE_MS = 100;
/** How soon a member asks again for partitions that another member has not released yet. */
const CLAIM_RETRY_MS = 25;

/**
 * One member of a consumer group on Redis Streams (or an ephemeral reader of every partition).
 *
 * Membership: the member's heartbeat expiry is its score in the group's `members` sorted set, refreshed on
 * poll and by a timer; every poll reads the live members and computes the assignment (whole partitions,
 * round-robin over the sorted member ids), so every process agrees without a coordinator. Joins and leaves
 * append to the group's `changes` stream, which waiting members watch, so they rebalance at once.
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
  readonly #memberId: string;
  readonly #topics: readonly string[];
  readonly #topicsJson: string;
  readonly #startFrom: 'earliest' | 'latest';
  readonly #ephemeral: boolean;
  readonly #onClose: (subscription: RedisSubscription) => void;
  #positions = new Map<string, Position>();
  /** Positions committed by the consumer but not yet written (the server was unreachable): topic → partition → next. */
  #uncommitted = new Map<string, Map<number, bigint>>();
  #assignment: readonly TopicPartition[] = [];
  #lastHeartbeat = 0;
  #joined = false;
  #lost = false;
  /** The partitions this member holds a claim on (tpKey → partition), as of the last claim. */
  #owned = new Map<string, TopicPartition>();
  #nextMembershipChange = Number.POSITIVE_INFINITY;
  #changesId = '0-0';
  #rotor = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #waiter: RedisWaiter;
  #closed = false;

  private constructor(ctx: RedisContext, options: SubscribeOptions, onClose: (s: RedisSubscription) => void) {
    this.#ctx = ctx;
    this.#group = options.group;
    this.#memberId = options.memberId ?? randomUUID();
    this.#topics = [...new Set(options.topics)].sort();
    this.#topicsJson = JSON.stringify(this.#topics);
    this.#startFrom = options.startFrom ?? 'earliest';
    this.#ephemeral = options.ephemeral === true;
    this.#onClose = onClose;
    this.#waiter = new RedisWaiter(
      ctx.client,
      `sluice-wait:${this.#group}:${this.#memberId}`.replace(/[^\x21-\x7e]/g, '_'),
    );
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
    await subscription.#start();
    return subscription;
  }

  async #start(): Promise<void> {
    if (this.#ephemeral) {
      const all: TopicPartition[] = [];
      for (const topic of this.#topics) {
        const meta = await this.#ctx.topics.get(topic);
        for (let partition = 0; partition < meta.partitions; partition++) all.push({ topic, partition });
      }
      await this.#assign(all);
      return;
    }
    await this.#refresh(Date.now());
    this.#timer = setInterval(() => this.#idleHeartbeat(), this.#ctx.options.heartbeatIntervalMs);
    this.#timer.unref();
  }

  /** The name (CLIENT SETNAME) of the connection a waiting poll blocks on. */
  get waitConnectionName(): string {
    return this.#waiter.name;
  }

  /** This member's id in the group. */
  get memberId(): string {
    return this.#memberId;
  }

  async poll(options: PollOptions): Promise<ConsumedRecord[]> {
    this.#ensureOpen();
    checkPollOptions(options);
    const { maxRecords, maxWaitMs, signal } = options;
    const deadline = Date.now() + maxWaitMs;
    for (;;) {
      if (this.#closed || signal?.aborted) return [];
      let records: ConsumedRecord[];
      try {
        await this.#refresh(Date.now());
        await this.#flushCommits();
        records = await this.#fetch(maxRecords, Date.now());
      } catch (error) {
        if (this.#closed) return [];
        // The server is restarting or unreachable: wait and try again until the deadline (the client
        // reconnects by itself), so a consumer rides out a broker restart instead of failing.
        if (!isRetryable(error)) throw error;
        if (Date.now() >= deadline) return [];
        await this.#waiter.sleep(Math.min(RETRY_PAUSE_MS, deadline - Date.now()), signal);
        continue;
      }
      if (this.#closed) return [];
      if (records.length > 0 || Date.now() >= deadline) return records;
      await this.#wait(Math.min(deadline, this.#nextMembershipChange), signal);
    }
  }

  /**
   * Writes the positions (forward only). If the server cannot be reached they are kept and written with the
   * next commit or poll: a commit that comes late only means a crash redelivers a little more.
   */
  async commit(records: readonly ConsumedRecord[]): Promise<void> {
    this.#ensureOpen();
    if (this.#ephemeral) return;
    for (const record of records) {
      if (!this.#positions.has(tpKey(record.topic, record.partition))) continue;
      const next = parseOffset(record.offset) + 1n;
      let partitions = this.#uncommitted.get(record.topic);
      if (partitions === undefined) {
        partitions = new Map();
        this.#uncommitted.set(record.topic, partitions);
      }
      const seen = partitions.get(record.partition);
      if (seen === undefined || next > seen) partitions.set(record.partition, next);
    }
    try {
      await this.#flushCommits();
    } catch (error) {
      if (!isRetryable(error)) throw error;
    }
  }

  /** Writes the positions committed but not written yet. */
  async #flushCommits(): Promise<void> {
    if (this.#uncommitted.size === 0) return;
    const pending = this.#uncommitted;
    this.#uncommitted = new Map();
    const { client, keys } = this.#ctx;
    try {
      await Promise.all(
        [...pending].map(([topic, partitions]) =>
          client.sendCommand([
            'EVAL',
            COMMIT_SCRIPT,
            '1',
            keys.committed(this.#group, topic),
            ...[...partitions].flatMap(([p, next]) => [String(p), String(next)]),
          ]),
        ),
      );
    } catch (cause) {
      // Put them back (unless newer ones came meanwhile); the script only ever moves positions forward.
      for (const [topic, partitions] of pending) {
        const now = this.#uncommitted.get(topic) ?? new Map<number, bigint>();
        for (const [p, next] of partitions) if ((now.get(p) ?? -1n) < next) now.set(p, next);
        this.#uncommitted.set(topic, now);
      }
      throw brokerError(`commit of group ${this.#group}`, cause);
    }
  }

  assignment(): readonly TopicPartition[] {
    return this.#assignment;
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
    await this.#refresh(Date.now());
    const meta = await this.#ctx.topics.get(topic);
    const partitions = partitionsOf(meta, target).filter((p) => this.#positions.has(tpKey(topic, p)));
    const positions = await positionsOf(this.#ctx.client, this.#ctx.keys, meta, partitions, target);
    partitions.forEach((p, i) => {
      this.#positions.get(tpKey(topic, p))!.next = positions[i]!;
    });
  }

  /**
   * Writes pending commits and leaves the group. If the server cannot be reached, it does not fail: the member
   * then times out after `sessionTimeoutMs`, as if it had crashed.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#stop();
    if (this.#ephemeral) return;
    const { client, keys } = this.#ctx;
    try {
      await this.#flushCommits();
      const pipeline = client.multi();
      const owned = [...this.#owned.values()];
      if (owned.length > 0) pipeline.addCommand(this.#claimCommand([], owned));
      pipeline.addCommand(['ZREM', keys.members(this.#group), this.#memberId]);
      pipeline.addCommand(['HDEL', keys.memberTopics(this.#group), this.#memberId]);
      pipeline.addCommand([
        'XADD',
        keys.changes(this.#group),
        'MAXLEN',
        '~',
        '1000',
        '*',
        'left',
        this.#memberId,
      ]);
      await pipeline.execAsPipeline();
    } catch (cause) {
      const error = brokerError(`leaving group ${this.#group}`, cause);
      // Unreachable server: the member times out after the session timeout, as if it had crashed, and its
      // partitions restart from the last commit that was written. Anything else is reported.
      if (!isRetryable(error)) throw error;
    }
  }

  /** Stops without leaving the group, as if the process died (the member times out). For fault tests. */
  abandon(): void {
    if (!this.#closed) this.#stop();
  }

  #stop(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#waiter.close();
    this.#onClose(this);
  }

  #ensureOpen(): void {
    if (this.#closed) throw new ClosedError(`${REDIS_NAME} subscription of group ${this.#group}`);
  }

  #idleHeartbeat(): void {
    if (this.#closed || Date.now() - this.#lastHeartbeat < this.#ctx.options.heartbeatIntervalMs / 2) return;
    const now = Date.now();
    const pipeline = this.#ctx.client.multi();
    this.#addHeartbeat(pipeline, now);
    const owned = [...this.#owned.values()];
    if (owned.length > 0) pipeline.addCommand(this.#claimCommand(owned, []));
    pipeline.execAsPipeline().then(
      (replies) => {
        this.#heartbeatDone(replies[0], now);
        if (owned.length > 0 && !this.#closed) this.#claimed(owned, replies[replies.length - 1]);
      },
      () => undefined, // the next poll heartbeats again and reports a lasting failure
    );
  }

  /** The CLAIM_SCRIPT call that claims (or renews) `wanted` and releases `release`. */
  #claimCommand(wanted: readonly TopicPartition[], release: readonly TopicPartition[]): string[] {
    const { keys, options } = this.#ctx;
    const owner = (tp: TopicPartition) => keys.owner(this.#group, tp.topic, tp.partition);
    return [
      'EVAL',
      CLAIM_SCRIPT,
      String(wanted.length + release.length + 1),
      ...wanted.map(owner),
      ...release.map(owner),
      keys.changes(this.#group),
      this.#memberId,
      String(options.sessionTimeoutMs),
      String(wanted.length),
    ];
  }

  /**
   * Applies a claim's answers: partitions granted are owned; one that was free again although this member had
   * a position in it (its claim had expired: another member may have read it meanwhile) restarts from the
   * committed offset; partitions denied are neither owned nor read. Returns the partitions owned.
   */
  #claimed(wanted: readonly TopicPartition[], reply: unknown): TopicPartition[] {
    const answers = Array.isArray(reply) ? reply.map(Number) : [];
    const granted: TopicPartition[] = [];
    wanted.forEach((tp, i) => {
      const key = tpKey(tp.topic, tp.partition);
      const answer = answers[i] ?? 0;
      if (answer !== 1) this.#positions.delete(key);
      if (answer === 0) this.#owned.delete(key);
      else {
        this.#owned.set(key, tp);
        granted.push(tp);
      }
    });
    return granted;
  }

  #addHeartbeat(pipeline: ReturnType<RedisClient['multi']>, now: number): void {
    const { keys, options } = this.#ctx;
    pipeline.addCommand(['ZSCORE', keys.members(this.#group), this.#memberId]);
    pipeline.addCommand([
      'ZADD',
      keys.members(this.#group),
      String(now + options.sessionTimeoutMs),
      this.#memberId,
    ]);
    pipeline.addCommand(['HSET', keys.memberTopics(this.#group), this.#memberId, this.#topicsJson]);
    if (!this.#joined) {
      pipeline.addCommand([
        'XADD',
        keys.changes(this.#group),
        'MAXLEN',
        '~',
        '1000',
        '*',
        'joined',
        this.#memberId,
      ]);
    }
  }

  /** Notes when the group had considered this member dead (its partitions may have moved meanwhile). */
  #heartbeatDone(previous: unknown, now: number): void {
    if (this.#joined && (previous == null || Number(previous) < now)) this.#lost = true;
    this.#joined = true;
    this.#lastHeartbeat = Math.max(this.#lastHeartbeat, now);
  }

  /** Heartbeats if due, reads the live members and recomputes this member's partitions. */
  async #refresh(now: number): Promise<void> {
    if (this.#ephemeral) return;
    const { client, keys } = this.#ctx;
    const beat =
      now - this.#lastHeartbeat >= Math.max(POLL_HEARTBEAT_GAP_MS, this.#ctx.options.heartbeatIntervalMs / 2);
    let replies: unknown[];
    try {
      const pipeline = client.multi();
      if (beat) this.#addHeartbeat(pipeline, now);
      pipeline.addCommand(['ZRANGEBYSCORE', keys.members(this.#group), String(now), '+inf', 'WITHSCORES']);
      pipeline.addCommand(['HGETALL', keys.memberTopics(this.#group)]);
      pipeline.addCommand(['XREVRANGE', keys.changes(this.#group), '+', '-', 'COUNT', '1']);
      replies = (await pipeline.execAsPipeline()) as unknown[];
    } catch (cause) {
      throw brokerError(`heartbeat in group ${this.#group}`, cause);
    }
    if (beat) this.#heartbeatDone(replies[0], now);
    const [scores, topicsReply, lastChange] = replies.slice(-3) as [unknown, unknown, [string, string[]][]];
    const last = lastChange[0]?.[0];
    if (last !== undefined) this.#changesId = last;
    const topicsOf = new Map(hashEntries(topicsReply));
    const live: AssignableMember[] = [];
    let nextChange = Number.POSITIVE_INFINITY;
    let self = false;
    for (const [memberId, score] of scoreEntries(scores)) {
      if (memberId === this.#memberId) {
        self = true;
        live.push({ memberId, topics: new Set(this.#topics) });
        continue;
      }
      nextChange = Math.min(nextChange, score + 1);
      const json = topicsOf.get(memberId);
      live.push({ memberId, topics: new Set(json === undefined ? [] : (JSON.parse(json) as string[])) });
    }
    if (!self) live.push({ memberId: this.#memberId, topics: new Set(this.#topics) });
    this.#nextMembershipChange = nextChange;
    if (this.#lost) {
      this.#positions.clear();
      this.#lost = false;
    }
    const counts = new Map<string, number>();
    for (const topic of new Set(live.flatMap((m) => [...m.topics]))) {
      const meta = await this.#ctx.topics.find(topic);
      if (meta !== undefined) counts.set(topic, meta.partitions);
    }
    const wanted = assignPartitions(live, (topic) => counts.get(topic), this.#memberId);
    const wantedKeys = new Set(wanted.map((tp) => tpKey(tp.topic, tp.partition)));
    const release = [...this.#owned].filter(([key]) => !wantedKeys.has(key)).map(([, tp]) => tp);
    const missing = wanted.some((tp) => !this.#owned.has(tpKey(tp.topic, tp.partition)));
    let owned = wanted.filter((tp) => this.#owned.has(tpKey(tp.topic, tp.partition)));
    if (beat || release.length > 0 || missing) {
      let reply: unknown;
      try {
        reply = await client.sendCommand(this.#claimCommand(wanted, release));
      } catch (cause) {
        throw brokerError(`claiming partitions in group ${this.#group}`, cause);
      }
      for (const tp of release) this.#owned.delete(tpKey(tp.topic, tp.partition));
      owned = this.#claimed(wanted, reply);
    }
    // Partitions another member has not released yet: ask again soon (its release also wakes a waiting poll).
    if (owned.length < wanted.length)
      this.#nextMembershipChange = Math.min(this.#nextMembershipChange, Date.now() + CLAIM_RETRY_MS);
    await this.#assign(owned);
  }

  /** Keeps fetch positions of partitions still assigned; starts new ones at the committed position. */
  async #assign(partitions: readonly TopicPartition[]): Promise<void> {
    const positions = new Map<string, Position>();
    const missing = new Map<string, number[]>();
    for (const { topic, partition } of partitions) {
      const key = tpKey(topic, partition);
      const known = this.#positions.get(key);
      if (known !== undefined) positions.set(key, known);
      else {
        const list = missing.get(topic) ?? [];
        list.push(partition);
        missing.set(topic, list);
      }
    }
    const { client, keys } = this.#ctx;
    for (const [topic, list] of missing) {
      const meta = await this.#ctx.topics.get(topic);
      let committed: (string | null)[] = list.map(() => null);
      if (!this.#ephemeral) {
        try {
          committed = (await client.sendCommand([
            'HMGET',
            keys.committed(this.#group, topic),
            ...list.map(String),
          ])) as (string | null)[];
        } catch (cause) {
          throw brokerError(`reading committed positions of group ${this.#group}`, cause);
        }
      }
      const fallback =
        this.#startFrom === 'latest' && committed.some((c) => c == null)
          ? await positionsOf(client, keys, meta, list, { to: 'latest' })
          : list.map(() => 0n);
      list.forEach((partition, i) => {
        const c = committed[i];
        positions.set(tpKey(topic, partition), {
          topic: meta,
          partition,
          next: c == null ? fallback[i]! : BigInt(c),
        });
      });
    }
    this.#positions = positions;
    if (!sameAssignment(this.#assignment, partitions)) {
      this.#assignment = Object.freeze(partitions.map((tp) => Object.freeze({ ...tp })));
    }
  }

  /**
   * Reads the next records of the assigned partitions, at most `maxRecords` in all. First a fair share of
   * each partition in one round trip; if that leaves room and some partitions had more, a second round trip
   * reads on from those. Records not returned are not kept: the position only moves past what is returned.
   */
  async #fetch(maxRecords: number, now: number): Promise<ConsumedRecord[]> {
    const assigned = this.#assignment;
    const n = assigned.length;
    if (n === 0) return [];
    const start = this.#rotor++ % n;
    const order: Position[] = [];
    for (let i = 0; i < n; i++) {
      const { topic, partition } = assigned[(start + i) % n]!;
      const position = this.#positions.get(tpKey(topic, partition));
      if (position !== undefined) order.push(position); // undefined: lost since the last poll
    }
    const out: ConsumedRecord[] = [];
    const share = Math.ceil(maxRecords / n);
    const more = await this.#fetchInto(order, share, maxRecords, now, out);
    if (more.length > 0 && out.length < maxRecords) {
      await this.#fetchInto(more, maxRecords - out.length, maxRecords, now, out);
    }
    return out;
  }

  /** Fetches up to `limit` records of each position into `out` (up to `maxRecords` in all); returns the
   * positions that may have more. */
  async #fetchInto(
    positions: readonly Position[],
    limit: number,
    maxRecords: number,
    now: number,
    out: ConsumedRecord[],
  ): Promise<Position[]> {
    const requests: FetchRequest[] = positions.map((p) => ({
      topic: p.topic,
      partition: p.partition,
      next: p.next,
    }));
    const results = await fetchPartitions(this.#ctx.client, this.#ctx.keys, requests, limit, now);
    const more: Position[] = [];
    results.forEach((result, i) => {
      const position = positions[i]!;
      // Positions reassigned while fetching (a seek, a lost membership) are left as they are.
      if (this.#positions.get(tpKey(position.topic.name, position.partition)) !== position) return;
      if (position.next !== requests[i]!.next) return;
      const room = maxRecords - out.length;
      if (room <= 0) return;
      if (result.records.length <= room) {
        out.push(...result.records);
        position.next = result.next;
        if (result.records.length === limit) more.push(position);
      } else {
        const taken = result.records.slice(0, room);
        out.push(...taken);
        position.next = BigInt(taken[taken.length - 1]!.offset) + 1n;
      }
    });
    return more;
  }

  /** Waits until a record may be ready in an assigned stream, the group changes, `until`, abort or close. */
  async #wait(until: number, signal: AbortSignal | undefined): Promise<void> {
    const ms = until - Date.now();
    if (ms <= 0) return;
    const block = Math.max(1, Math.ceil(Math.min(ms, this.#ctx.options.heartbeatIntervalMs)));
    const now = Date.now();
    const streams: string[] = [];
    const ids: string[] = [];
    for (const position of this.#positions.values()) {
      const oldest = oldestVisible(position.topic, now);
      const next = laterOffset(position.next, oldest);
      streams.push(this.#ctx.keys.stream(position.topic.name, position.partition));
      ids.push(next === 0n ? '0-0' : idOfOffset(next - 1n));
    }
    if (!this.#ephemeral) {
      streams.push(this.#ctx.keys.changes(this.#group));
      ids.push(this.#changesId);
    }
    await this.#waiter.block(streams, ids, block, signal);
  }
}

function sameAssignment(a: readonly TopicPartition[], b: readonly TopicPartition[]): boolean {
  return (
    a.length === b.length && a.every((tp, i) => tp.topic === b[i]!.topic && tp.partition === b[i]!.partition)
  );
}
