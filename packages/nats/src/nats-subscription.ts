import { randomUUID } from 'node:crypto';
import type { Subscription as NatsSub } from '@nats-io/transport-node';
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
  waitForWake,
} from '@sluice/core/adapter';

import { decodeRecord } from './nats-codec.js';
import { type CursorContext, NatsCursor, type PulledMessage } from './nats-cursor.js';
import { NATS_NAME } from './nats-errors.js';
import type { NatsGroups } from './nats-groups.js';
import { NatsMembershipStore } from './nats-membership-store.js';
import { token } from './nats-names.js';
import { partitionsOf, positionOf } from './nats-positions.js';
import { dropReader, type Reader, readAhead, takeFrom } from './nats-reader.js';
import type { NatsTopic } from './nats-topics.js';

/** After a publish rings the doorbell, how long a waiting poll keeps looking for the stored record. */
const RING_GRACE_MS = 250;
/** How long a waiting poll pauses after a reader failed before it tries again. */
const FAILED_FETCH_PAUSE_MS = 50;
const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** What a subscription needs from its transport. */
export interface SubscriptionContext extends CursorContext {
  readonly groups: NatsGroups;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly isClosed: () => boolean;
}

/**
 * One member of a consumer group on JetStream (or an ephemeral reader of every partition).
 *
 * JetStream does not assign partitions to members, so membership is Sluice's: core's group engine runs the
 * member cycle over a {@link NatsMembershipStore} (heartbeats every `heartbeatIntervalMs` in the members
 * stream, the group's committed positions in the offsets stream), dealing the partitions of the live members
 * the same way in every process. A failed membership step never fails a poll: the member keeps its last
 * assignment (the server may be electing a leader). Records are read with one cursor per owned partition,
 * pulling exactly what the poll may return: a member that does not poll holds nothing. A waiting poll listens
 * to the topics' subjects (core NATS) while it waits, so a publish wakes it.
 */
export class NatsSubscription implements Subscription {
  readonly #ctx: SubscriptionContext;
  readonly #group: string;
  readonly #memberId: string;
  readonly #topics: readonly NatsTopic[];
  readonly #ephemeral: boolean;
  readonly #onClose: (s: NatsSubscription) => void;
  readonly #store: NatsMembershipStore;
  readonly #member: GroupMember;
  readonly #readers = new Map<string, Reader>();
  /** Waiting polls: a publish, a member change or close wakes them. */
  readonly #wakers = new Set<() => void>();
  /** The doorbells of the poll under way (`undefined` until its first wait). */
  #doorbells: NatsSub[] | undefined;
  #backoff = 1;
  #rungAt = 0;
  #fetchFailed = false;
  #closed = false;

  private constructor(
    ctx: SubscriptionContext,
    options: SubscribeOptions,
    topics: readonly NatsTopic[],
    onClose: (s: NatsSubscription) => void,
  ) {
    this.#ctx = ctx;
    this.#group = options.group;
    this.#memberId = options.memberId ?? randomUUID();
    this.#topics = topics;
    this.#ephemeral = options.ephemeral === true;
    this.#onClose = onClose;
    const refreshMs = Math.max(25, Math.floor(ctx.heartbeatIntervalMs / 4));
    this.#store = new NatsMembershipStore(
      ctx,
      ctx.groups,
      options.group,
      this.#memberId,
      ctx.sessionTimeoutMs,
      refreshMs,
    );
    const byName = new Map(topics.map((t) => [t.name, t]));
    this.#member = createGroupMember({
      store: this.#store,
      memberId: token(this.#memberId),
      topics: topics.map((t) => t.name),
      startFrom: options.startFrom ?? 'earliest',
      ephemeral: this.#ephemeral,
      heartbeatIntervalMs: ctx.heartbeatIntervalMs,
      sessionTimeoutMs: ctx.sessionTimeoutMs,
      heartbeatOnPoll: false,
      flushOnPoll: false,
      keepAssignmentOnFailure: true,
      partitionCount: (topic) => byName.get(topic)?.partitions,
      latest: async (topic, partitions) => {
        const latest = await positionOf(ctx, ctx.groups.names, byName.get(topic)!, { to: 'latest' });
        return partitions.map(() => BigInt(latest));
      },
      fetch: (cursors, maxRecords) => this.#fetch(cursors, maxRecords),
      wait: (until, signal) => this.#wait(until, signal),
      onLost: () => this.#dropAll(),
    });
  }

  /** Validates, joins the group (first heartbeat stored) or starts an ephemeral reader. */
  static async open(
    ctx: SubscriptionContext,
    options: SubscribeOptions,
    topicOf: (name: string) => Promise<NatsTopic>,
    onClose: (s: NatsSubscription) => void,
  ): Promise<NatsSubscription> {
    checkSubscribeOptions(options);
    const names = [...new Set(options.topics)].sort();
    const topics: NatsTopic[] = [];
    for (const name of names) topics.push(await topicOf(name));
    const sub = new NatsSubscription(ctx, options, topics, onClose);
    if (!sub.#ephemeral) await ctx.groups.ensureStreams();
    // A failed first heartbeat (the server is electing a leader) is retried by the timer.
    await sub.#member.start();
    return sub;
  }

  /** This member's id in the group. */
  get memberId(): string {
    return this.#memberId;
  }

  async poll(options: PollOptions): Promise<ConsumedRecord[]> {
    this.#ensureOpen();
    checkPollOptions(options);
    this.#doorbells = undefined;
    this.#backoff = 1;
    try {
      return await this.#member.poll(options);
    } finally {
      for (const d of (this.#doorbells as NatsSub[] | undefined) ?? []) d.unsubscribe();
      this.#doorbells = undefined;
    }
  }

  /**
   * Stores the positions in the offsets stream. A write that fails (the server is electing a leader, the
   * connection is re-established) is kept and written by the next `commit` or by `close`: committing late
   * only means a crash redelivers a little more, which consumers skip.
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
    const meta = this.#topics.find((t) => t.name === topic);
    if (meta === undefined) {
      throw new InvalidOptionError(
        'seek',
        'topic',
        `${topic} is not one of this subscription's topics (${this.#topics.map((t) => t.name)})`,
      );
    }
    await this.#member.seek(topic, partitionsOf(meta, target), async (partitions) => {
      const position = BigInt(await positionOf(this.#ctx, this.#ctx.groups.names, meta, target));
      return partitions.map(() => position);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#stop();
    if (this.#ctx.isClosed()) this.#store.close();
    else await this.#member.leave();
  }

  /** Stops without leaving the group, as if the process died (the member times out). For fault tests. */
  abandon(): void {
    if (!this.#closed) this.#stop();
    this.#store.close();
  }

  /** Wakes a waiting poll (a publish rang, a member changed, the transport closed). */
  notify(): void {
    for (const wake of [...this.#wakers]) wake();
  }

  #stop(): void {
    this.#closed = true;
    this.#member.stop();
    this.#dropAll();
    this.notify();
    this.#onClose(this);
  }

  #ensureOpen(): void {
    if (this.#closed || this.#ctx.isClosed()) {
      throw new ClosedError(`${NATS_NAME} subscription of group ${this.#group}`);
    }
  }

  /**
   * Before a poll's first wait, listens to the topics' subjects and returns at once (a publish between the
   * fetch and the subscription is read now); then waits for a ring, a member change, `until` or abort.
   */
  async #wait(until: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.#closed || this.#ctx.isClosed()) return;
    if (this.#doorbells === undefined) {
      this.#doorbells = this.#ringOnPublish();
      await this.#ctx.nc.flush().catch(() => undefined);
      return;
    }
    const after = Date.now();
    let at = until;
    if (!this.#ephemeral) {
      at = Math.min(at, this.#store.readAt + Math.max(25, Math.floor(this.#ctx.heartbeatIntervalMs / 4)));
    }
    if (after - this.#rungAt < RING_GRACE_MS) {
      // Rung, but the stream had not stored the record yet (or it was a duplicate): look again soon.
      at = Math.min(at, after + this.#backoff);
      this.#backoff = Math.min(this.#backoff * 2, 32);
    } else this.#backoff = 1;
    // A reader failed (the server is unreachable or electing a leader): do not spin on it.
    if (this.#fetchFailed) at = Math.max(at, Math.min(until, after + FAILED_FETCH_PAUSE_MS));
    await waitForWake(this.#wakers, at - after, signal);
  }

  /** Core-NATS subscriptions to the topics' subjects: a publish to an owned partition wakes the poll. */
  #ringOnPublish(): NatsSub[] {
    return this.#topics.map((topic) => {
      const filter = this.#ctx.groups.names.topicFilter(topic.name);
      const prefix = filter.slice(0, -1);
      return this.#ctx.nc.subscribe(filter, {
        callback: (_error, msg) => {
          const rest = msg.subject.slice(prefix.length);
          const partition = Number(rest.split('.', 1)[0]);
          if (this.#member.cursor(topic.name, partition) === undefined) return;
          this.#rungAt = Date.now();
          this.notify();
        },
      });
    });
  }

  /** The reader of an owned partition's cursor, a new one if the cursor changed (new owner, lost). */
  #readerOf(at: PartitionCursor): Reader {
    const key = tpKey(at.topic, at.partition);
    const known = this.#readers.get(key);
    if (known !== undefined && known.at === at) return known;
    if (known !== undefined) dropReader(known);
    const topic = this.#topics.find((t) => t.name === at.topic)!;
    const reader: Reader = { at, topic, cursor: undefined, cursorAt: -1n, ahead: undefined, leftover: [] };
    this.#readers.set(key, reader);
    return reader;
  }

  #dropAll(): void {
    for (const reader of this.#readers.values()) dropReader(reader);
    this.#readers.clear();
  }

  /**
   * A poll's records: first a share of `maxRecords` from every owned partition, all pulled at once (one round
   * trip for the poll, not one per partition: a record published to the last partition in turn waits no longer
   * than one to the first); then, while the poll has room, more from the partitions whose share came back full
   * (a backlog on a few partitions still fills whole polls).
   */
  async #fetch(cursors: readonly PartitionCursor[], maxRecords: number): Promise<ConsumedRecord[]> {
    const out: ConsumedRecord[] = [];
    // Readers of partitions no longer owned are closed.
    const owned = new Set(cursors.map((c) => tpKey(c.topic, c.partition)));
    for (const [key, reader] of this.#readers) {
      if (owned.has(key)) continue;
      dropReader(reader);
      this.#readers.delete(key);
    }
    const n = cursors.length;
    if (n === 0) return out;
    this.#fetchFailed = false;
    const open: Reader[] = [];
    for (const at of cursors) {
      const reader = await this.#opened(at);
      if (reader !== undefined) open.push(reader);
    }
    // Shares add up to maxRecords: the first partitions in turn get one more; with fewer records than partitions
    // the last ones wait for a later poll (the engine rotates which partition comes first).
    const base = Math.floor(maxRecords / Math.max(1, open.length));
    const shares = open.map((_, i) => base + (i < maxRecords - base * open.length ? 1 : 0));
    const first = await Promise.all(
      open.map((reader, i) => (shares[i]! > 0 ? this.#pulled(reader, shares[i]!) : undefined)),
    );
    const more: Reader[] = [];
    for (let i = 0; i < open.length; i++) {
      if (shares[i] === 0) continue;
      const full = this.#deliver(open[i]!, first[i], shares[i]!, maxRecords, out);
      if (full) more.push(open[i]!);
    }
    for (const reader of more) {
      if (out.length >= maxRecords) break;
      const want = maxRecords - out.length;
      this.#deliver(reader, await this.#pulled(reader, want), want, maxRecords, out);
    }
    // The next poll starts with the next partition in turn: have its records on the way too.
    const next = cursors[1 % n]!;
    const reader = this.#readers.get(tpKey(next.topic, next.partition));
    if (reader !== undefined && reader.at === next) readAhead(reader, maxRecords);
    return out;
  }

  /** The reader of `at` with a cursor open at its position, or undefined when opening failed (noted). */
  async #opened(at: PartitionCursor): Promise<Reader | undefined> {
    const reader = this.#readerOf(at);
    try {
      if (reader.cursor === undefined || reader.cursor.broken || reader.cursorAt !== at.next) {
        dropReader(reader);
        reader.cursor = await NatsCursor.open(
          this.#ctx,
          reader.topic.stream,
          this.#ctx.groups.names.partitionFilter(reader.topic.name, at.partition, reader.topic.entity),
          { seq: Number(at.next) },
        );
        reader.cursorAt = at.next;
      }
      return reader;
    } catch {
      // The server is unreachable or electing a leader: open a new cursor on the next poll.
      dropReader(reader);
      this.#fetchFailed = true;
      return undefined;
    }
  }

  /** Up to `want` messages of a reader's cursor, or undefined when the pull failed (the reader dropped, noted). */
  async #pulled(reader: Reader, want: number): Promise<PulledMessage[] | undefined> {
    const cursor = reader.cursor;
    if (cursor === undefined) return undefined;
    try {
      return await takeFrom(reader, cursor, want);
    } catch {
      // The cursor's node died or the server is electing a leader: open a new cursor on the next poll.
      dropReader(reader);
      this.#fetchFailed = true;
      return undefined;
    }
  }

  /**
   * Adds a reader's pulled messages to the poll's records (advancing its partition's position), unless the
   * partition was revoked meanwhile. Returns whether the pull came back full with more in the stream: then a
   * read-ahead is under way and the poll may take more from it.
   */
  #deliver(
    reader: Reader,
    pulled: PulledMessage[] | undefined,
    want: number,
    maxRecords: number,
    out: ConsumedRecord[],
  ): boolean {
    const at = reader.at;
    if (pulled === undefined || this.#member.cursor(at.topic, at.partition) !== at) return false;
    const last = pulled[pulled.length - 1];
    const more = pulled.length === want && last !== undefined && last.pending > 0;
    // The stream has more for this partition: pull the next batch now, so it travels while the caller works.
    if (more) readAhead(reader, maxRecords);
    const oldest = reader.topic.retentionMs === undefined ? 0 : Date.now() - reader.topic.retentionMs;
    for (const m of pulled) {
      at.next = BigInt(m.sequence + 1);
      reader.cursorAt = at.next;
      // The server expires records on a coarse timer: never deliver one older than the retention.
      if (m.timestamp < oldest) continue;
      out.push(decodeRecord(reader.topic.name, at.partition, m));
    }
    return more;
  }
}
