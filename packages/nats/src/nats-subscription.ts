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
  type AssignableMember,
  assignPartitions,
  checkPollOptions,
  checkSubscribeOptions,
  waitForWake,
} from '@sluice/core/adapter';

import { decodeRecord } from './nats-codec.js';
import { type CursorContext, NatsCursor, type PulledMessage } from './nats-cursor.js';
import { NATS_NAME } from './nats-errors.js';
import type { Heartbeat, NatsGroups } from './nats-groups.js';
import { token } from './nats-names.js';
import { partitionsOf, positionOf } from './nats-positions.js';
import type { NatsTopic } from './nats-topics.js';

/** After a publish rings the doorbell, how long a waiting poll keeps looking for the stored record. */
const RING_GRACE_MS = 250;
/** How long a waiting poll pauses after a reader failed before it tries again. */
const FAILED_FETCH_PAUSE_MS = 50;
const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** One assigned partition: this member's fetch position and the reader at it. */
interface Part {
  readonly topic: NatsTopic;
  readonly partition: number;
  /** Next stream sequence to return; `undefined` until the committed position was read. */
  position: number | undefined;
  /** Highest position committed through this member (commits never move back). */
  committed: number;
  /** Highest position the consumer committed, stored or not yet. */
  uncommitted: number;
  cursor: NatsCursor | undefined;
  /** Position the cursor was opened at plus what it delivered; differs from `position` after a seek. */
  cursorAt: number;
  /**
   * Read-ahead of an event or message topic's partition: the cursor's next pull, started when a poll took a
   * full share from it and the stream had more, so the next poll finds records without a round trip. At most
   * one pull of `maxRecords` per partition; dropped with the cursor.
   */
  ahead: Promise<PulledMessage[]> | undefined;
  /** Records the cursor returned that no poll has taken yet (from a read-ahead larger than the poll's share). */
  leftover: PulledMessage[];
}

interface MemberState {
  readonly topics: ReadonlySet<string>;
  readonly expiresAt: number;
  readonly left: boolean;
}

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
 * JetStream does not assign partitions to members, so membership is Sluice's: each member stores a heartbeat
 * every `heartbeatIntervalMs` in the members stream and reads the others' with a cursor; every poll deals the
 * partitions of the live members (sorted by id) round-robin, the same way in every process. A newly assigned
 * partition is read from the group's committed position in the offsets stream. Records are read with one
 * cursor per assigned partition, pulling exactly what the poll may return: a member that does not poll holds
 * nothing. A waiting poll listens to the topics' subjects (core NATS) while it waits, so a publish wakes it.
 */
export class NatsSubscription implements Subscription {
  readonly #ctx: SubscriptionContext;
  readonly #group: string;
  readonly #memberId: string;
  readonly #topics: readonly NatsTopic[];
  readonly #startFrom: 'earliest' | 'latest';
  readonly #ephemeral: boolean;
  readonly #onClose: (s: NatsSubscription) => void;
  #parts = new Map<string, Part>();
  #assignment: readonly TopicPartition[] = [];
  readonly #members = new Map<string, MemberState>();
  #membersCursor: NatsCursor | undefined;
  #membersReadAt = 0;
  #nextExpiry = Number.POSITIVE_INFINITY;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #heartbeating = false;
  #lastBeatOk = 0;
  #lost = false;
  #rotor = 0;
  #rungAt = 0;
  #fetchFailed = false;
  /** Waiting polls: a publish, a member change or close wakes them. */
  readonly #wakers = new Set<() => void>();
  #committing: Promise<void> = Promise.resolve();
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
    this.#startFrom = options.startFrom ?? 'earliest';
    this.#ephemeral = options.ephemeral === true;
    this.#onClose = onClose;
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
    if (sub.#ephemeral) {
      sub.#assign(
        topics.flatMap((t) =>
          Array.from({ length: t.partitions }, (_, partition) => ({ topic: t.name, partition })),
        ),
      );
      return sub;
    }
    await ctx.groups.ensureStreams();
    // A failed first heartbeat (the server is electing a leader) is retried by the timer.
    await sub.#beat().catch(() => undefined);
    sub.#heartbeatTimer = setInterval(() => void sub.#beat().catch(() => undefined), ctx.heartbeatIntervalMs);
    sub.#heartbeatTimer.unref();
    await sub.#refresh(Date.now(), true).catch(() => undefined);
    return sub;
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
    let doorbells: NatsSub[] | undefined;
    let backoff = 1;
    try {
      for (;;) {
        if (this.#closed || this.#ctx.isClosed() || signal?.aborted) return [];
        const now = Date.now();
        await this.#refresh(now, false).catch(() => undefined);
        const records = await this.#fetch(maxRecords);
        if (records.length > 0) return records;
        const after = Date.now();
        if (after >= deadline || this.#closed) return [];
        if (doorbells === undefined) {
          doorbells = this.#ringOnPublish();
          await this.#ctx.nc.flush().catch(() => undefined);
          continue; // a publish between the fetch and the subscription is read now
        }
        let until = Math.min(deadline, this.#nextExpiry + 1);
        if (!this.#ephemeral) until = Math.min(until, this.#membersReadAt + this.#membersRefreshMs());
        if (after - this.#rungAt < RING_GRACE_MS) {
          // Rung, but the stream had not stored the record yet (or it was a duplicate): look again soon.
          until = Math.min(until, after + backoff);
          backoff = Math.min(backoff * 2, 32);
        } else backoff = 1;
        // A reader failed (the server is unreachable or electing a leader): do not spin on it.
        if (this.#fetchFailed) until = Math.max(until, Math.min(deadline, after + FAILED_FETCH_PAUSE_MS));
        await this.#sleep(until, signal);
      }
    } finally {
      for (const d of doorbells ?? []) d.unsubscribe();
    }
  }

  /**
   * Stores the positions in the offsets stream. A write that fails (the server is electing a leader, the
   * connection is re-established) is kept and written by the next `commit` or by `close`: committing late
   * only means a crash redelivers a little more, which consumers skip.
   */
  async commit(records: readonly ConsumedRecord[]): Promise<void> {
    this.#ensureOpen();
    if (this.#ephemeral) return;
    for (const record of records) {
      const part = this.#parts.get(tpKey(record.topic, record.partition));
      if (part === undefined) continue;
      const offset = Number(record.offset) + 1;
      if (!Number.isSafeInteger(offset) || offset <= Math.max(part.committed, part.uncommitted)) continue;
      part.uncommitted = offset;
    }
    await this.#writeCommits();
  }

  /** Writes pending commits, one flush at a time so a position never moves back on the server. */
  #writeCommits(): Promise<void> {
    const run = async () => {
      await Promise.all(
        [...this.#parts.values()].map(async (part) => {
          const offset = part.uncommitted;
          if (offset <= part.committed) return;
          try {
            await this.#ctx.groups.commit(this.#group, part.topic.name, part.partition, offset);
            part.committed = Math.max(part.committed, offset);
          } catch {
            // Kept in part.uncommitted for the next commit or close.
          }
        }),
      );
    };
    this.#committing = this.#committing.then(run, run);
    return this.#committing;
  }

  assignment(): readonly TopicPartition[] {
    return this.#assignment;
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
    await this.#refresh(Date.now(), false).catch(() => undefined);
    const partitions = partitionsOf(meta, target);
    const position = await positionOf(this.#ctx, this.#ctx.groups.names, meta, target);
    for (const partition of partitions) {
      const part = this.#parts.get(tpKey(topic, partition));
      if (part === undefined) continue;
      part.position = position;
      this.#dropCursor(part);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    if (!this.#ephemeral && !this.#ctx.isClosed()) await this.#writeCommits();
    this.#stop();
    for (const part of this.#parts.values()) this.#dropCursor(part);
    this.#membersCursor?.close();
    if (!this.#ephemeral && !this.#ctx.isClosed()) {
      await this.#ctx.groups
        .heartbeat(this.#group, this.#memberId, this.#heartbeatBody(true))
        .catch(() => undefined);
    }
  }

  /** Stops without leaving the group, as if the process died (the member times out). For fault tests. */
  abandon(): void {
    if (!this.#closed) this.#stop();
  }

  #stop(): void {
    this.#closed = true;
    clearInterval(this.#heartbeatTimer);
    this.#wake();
    this.#onClose(this);
  }

  #ensureOpen(): void {
    if (this.#closed || this.#ctx.isClosed()) {
      throw new ClosedError(`${NATS_NAME} subscription of group ${this.#group}`);
    }
  }

  /** Wakes a waiting poll (a publish rang, a member changed, the transport closed). */
  notify(): void {
    this.#wake();
  }

  #sleep(until: number, signal: AbortSignal | undefined): Promise<void> {
    return waitForWake(this.#wakers, until - Date.now(), signal);
  }

  #wake(): void {
    for (const wake of [...this.#wakers]) wake();
  }

  /** Core-NATS subscriptions to the topics' subjects: a publish to an assigned partition wakes the poll. */
  #ringOnPublish(): NatsSub[] {
    return this.#topics.map((topic) => {
      const filter = this.#ctx.groups.names.topicFilter(topic.name);
      const prefix = filter.slice(0, -1);
      return this.#ctx.nc.subscribe(filter, {
        callback: (_error, msg) => {
          const rest = msg.subject.slice(prefix.length);
          const partition = Number(rest.split('.', 1)[0]);
          if (!this.#parts.has(tpKey(topic.name, partition))) return;
          this.#rungAt = Date.now();
          this.#wake();
        },
      });
    });
  }

  #membersRefreshMs(): number {
    return Math.max(25, Math.floor(this.#ctx.heartbeatIntervalMs / 4));
  }

  #heartbeatBody(left: boolean): Heartbeat {
    return {
      topics: this.#topics.map((t) => t.name),
      sessionTimeoutMs: this.#ctx.sessionTimeoutMs,
      ...(left ? { left: true } : {}),
    };
  }

  async #beat(): Promise<void> {
    if (this.#heartbeating || this.#closed) return;
    this.#heartbeating = true;
    try {
      await this.#ctx.groups.heartbeat(this.#group, this.#memberId, this.#heartbeatBody(false));
      const now = Date.now();
      // Silent for a whole session: the others may have taken our partitions; restart from committed.
      if (this.#lastBeatOk > 0 && now - this.#lastBeatOk > this.#ctx.sessionTimeoutMs) this.#lost = true;
      this.#lastBeatOk = now;
    } finally {
      this.#heartbeating = false;
    }
  }

  /** Reads new heartbeats if due, then recomputes this member's partitions from the live members. */
  async #refresh(now: number, force: boolean): Promise<void> {
    if (this.#ephemeral) return;
    if (force || now - this.#membersReadAt >= this.#membersRefreshMs() || now > this.#nextExpiry) {
      await this.#readMembers();
    }
    const self = token(this.#memberId);
    const live: AssignableMember[] = [{ memberId: self, topics: new Set(this.#topics.map((t) => t.name)) }];
    let nextExpiry = Number.POSITIVE_INFINITY;
    const at = Date.now();
    for (const [id, m] of this.#members) {
      if (id === self || m.left || m.expiresAt < at) continue;
      nextExpiry = Math.min(nextExpiry, m.expiresAt);
      live.push({ memberId: id, topics: m.topics });
    }
    this.#nextExpiry = nextExpiry;
    if (this.#lost) {
      this.#lost = false;
      for (const part of this.#parts.values()) this.#dropCursor(part);
      this.#parts.clear();
    }
    const byName = new Map(this.#topics.map((t) => [t.name, t]));
    this.#assign(assignPartitions(live, (topic) => byName.get(topic)?.partitions, self));
  }

  async #readMembers(): Promise<void> {
    const { groups } = this.#ctx;
    if (this.#membersCursor === undefined || this.#membersCursor.broken) {
      this.#members.clear();
      this.#membersCursor = await NatsCursor.open(
        this.#ctx,
        groups.names.membersStream,
        groups.names.membersFilter(this.#group),
        {
          lastPerSubject: true,
        },
      );
    }
    for (;;) {
      const batch = await this.#membersCursor.pull(256);
      for (const m of batch) {
        const id = memberIdOf(m.subject);
        let beat: Heartbeat;
        try {
          beat = JSON.parse(m.body) as Heartbeat;
        } catch {
          continue;
        }
        this.#members.set(id, {
          topics: new Set(beat.topics),
          expiresAt: m.timestamp + beat.sessionTimeoutMs,
          left: beat.left === true,
        });
      }
      if (batch.length < 256) break;
    }
    this.#membersReadAt = Date.now();
  }

  /** Keeps positions of partitions still assigned; new ones start at the committed position (read in fetch). */
  #assign(partitions: readonly TopicPartition[]): void {
    const parts = new Map<string, Part>();
    for (const { topic, partition } of partitions) {
      const key = tpKey(topic, partition);
      const part = this.#parts.get(key) ?? {
        topic: this.#topics.find((t) => t.name === topic)!,
        partition,
        position: undefined,
        committed: 0,
        uncommitted: 0,
        cursor: undefined,
        cursorAt: -1,
        ahead: undefined,
        leftover: [],
      };
      parts.set(key, part);
    }
    for (const [key, part] of this.#parts) if (!parts.has(key)) this.#dropCursor(part);
    this.#parts = parts;
    if (
      this.#assignment.length !== partitions.length ||
      this.#assignment.some(
        (tp, i) => tp.topic !== partitions[i]!.topic || tp.partition !== partitions[i]!.partition,
      )
    ) {
      this.#assignment = Object.freeze(partitions.map((tp) => Object.freeze({ ...tp })));
    }
  }

  #dropCursor(part: Part): void {
    part.cursor?.close();
    part.cursor = undefined;
    part.cursorAt = -1;
    part.ahead = undefined;
    part.leftover = [];
  }

  /** Up to `want` records from the cursor: what a read-ahead left, then the read-ahead, then a new pull. */
  async #take(part: Part, cursor: NatsCursor, want: number): Promise<PulledMessage[]> {
    if (part.leftover.length === 0 && part.ahead !== undefined) {
      const ahead = part.ahead;
      part.ahead = undefined;
      part.leftover = await ahead;
    }
    if (part.leftover.length > 0) return part.leftover.splice(0, want);
    return cursor.pull(want);
  }

  /** Where a newly assigned partition starts: the committed position, else `startFrom`. */
  async #start(part: Part): Promise<number> {
    if (!this.#ephemeral) {
      const committed = await this.#ctx.groups.committed(this.#group, part.topic.name, part.partition);
      if (committed !== undefined) {
        part.committed = committed;
        return committed;
      }
    }
    if (this.#startFrom === 'latest') {
      return positionOf(this.#ctx, this.#ctx.groups.names, part.topic, { to: 'latest' });
    }
    return 0;
  }

  async #fetch(maxRecords: number): Promise<ConsumedRecord[]> {
    const out: ConsumedRecord[] = [];
    const parts = [...this.#parts.values()];
    const n = parts.length;
    if (n === 0) return out;
    const start = this.#rotor++ % n;
    const names = this.#ctx.groups.names;
    this.#fetchFailed = false;
    for (let i = 0; i < n && out.length < maxRecords; i++) {
      const part = parts[(start + i) % n]!;
      try {
        if (part.position === undefined) part.position = await this.#start(part);
        if (part.cursor === undefined || part.cursor.broken || part.cursorAt !== part.position) {
          this.#dropCursor(part);
          part.cursor = await NatsCursor.open(
            this.#ctx,
            part.topic.stream,
            names.partitionFilter(part.topic.name, part.partition, part.topic.entity),
            { seq: part.position },
          );
          part.cursorAt = part.position;
        }
        const cursor = part.cursor;
        const want = maxRecords - out.length;
        const pulled = await this.#take(part, cursor, want);
        if (this.#parts.get(tpKey(part.topic.name, part.partition)) !== part) continue; // revoked meanwhile
        // The stream has more for this partition and the poll took a full share: pull the next batch now, so
        // it travels while the caller works on this one. Not on entity topics (a member must not hold values
        // replaced meanwhile) and never more than one pull ahead.
        const last = pulled[pulled.length - 1];
        if (pulled.length === want && last !== undefined && last.pending > 0)
          this.#readAhead(part, maxRecords);
        const oldest = part.topic.retentionMs === undefined ? 0 : Date.now() - part.topic.retentionMs;
        for (const m of pulled) {
          part.position = m.sequence + 1;
          part.cursorAt = part.position;
          // The server expires records on a coarse timer: never deliver one older than the retention.
          if (m.timestamp < oldest) continue;
          out.push(decodeRecord(part.topic.name, part.partition, m));
        }
      } catch {
        // The cursor's node died or the server is electing a leader: open a new cursor on the next poll.
        this.#dropCursor(part);
        this.#fetchFailed = true;
      }
    }
    // The next poll starts with the next partition in turn: have its records on the way too.
    const next = parts[this.#rotor % n];
    if (next !== undefined && next.position !== undefined) this.#readAhead(next, maxRecords);
    return out;
  }

  /**
   * Starts the next pull of a partition's cursor now, so the next poll finds its records without a round trip.
   * Not on entity topics (a member must not hold values replaced meanwhile); never more than one pull ahead
   * per partition, and only when nothing is left over from the last one.
   */
  #readAhead(part: Part, maxRecords: number): void {
    const cursor = part.cursor;
    if (
      part.topic.entity ||
      cursor === undefined ||
      cursor.broken ||
      part.cursorAt !== part.position ||
      part.ahead !== undefined ||
      part.leftover.length > 0
    ) {
      return;
    }
    const ahead = cursor.pull(maxRecords);
    ahead.catch(() => undefined); // awaited (and its failure handled) by the next poll that reads this partition
    part.ahead = ahead;
  }
}

function memberIdOf(subject: string): string {
  return subject.slice(subject.lastIndexOf('.') + 1);
}
