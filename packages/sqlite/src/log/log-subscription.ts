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
  type AssignableMember,
  assignPartitions,
  checkPollOptions,
  checkSubscribeOptions,
} from '@sluice/core/adapter';
import { type CommitWakeup, notifyCommitted } from '../commit-wakeup.js';

import { LOG_NAME, parseOffset } from './log-errors.js';
import type { LogStore } from './log-store.js';

/** A poll heartbeats at most this often, or every half heartbeat interval if longer (spares writes under load). */
const POLL_HEARTBEAT_GAP_MS = 50;

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * One member of a consumer group on the embedded log (or an ephemeral reader of every partition).
 *
 * Membership lives in `sluice_log_members`: the member heartbeats on poll and on a timer while idle, and every
 * poll recomputes the assignment from the live members, so all processes agree without talking to each other.
 * A newly assigned partition is read from the group's committed offset. Nothing is prefetched: a member that
 * does not poll holds no records in memory.
 */
export class LogSubscription implements Subscription {
  readonly #store: LogStore;
  readonly #wakeup: CommitWakeup;
  readonly #group: string;
  readonly #memberId: string;
  readonly #topics: readonly string[];
  readonly #topicsJson: string;
  readonly #startFrom: 'earliest' | 'latest';
  readonly #ephemeral: boolean;
  readonly #onClose: (subscription: LogSubscription) => void;
  readonly #parsedTopics = new Map<string, ReadonlySet<string>>();
  #positions = new Map<string, number>();
  #assignment: readonly TopicPartition[] = [];
  #lastHeartbeat = 0;
  /** Positions committed by the consumer but not yet written (the file was busy). */
  readonly #uncommitted = new Map<string, { topic: string; partition: number; offset: number }>();
  #joined = false;
  #lost = false;
  #nextMembershipChange = Number.POSITIVE_INFINITY;
  #rotor = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  /** Joins the group (or starts an ephemeral reader). Use `LogTransport.subscribe`. */
  constructor(
    store: LogStore,
    wakeup: CommitWakeup,
    options: SubscribeOptions,
    onClose: (subscription: LogSubscription) => void,
  ) {
    const startFrom = checkSubscribeOptions(options);
    this.#store = store;
    this.#wakeup = wakeup;
    this.#group = options.group;
    this.#memberId = options.memberId ?? randomUUID();
    this.#topics = [...new Set(options.topics)].sort();
    for (const topic of this.#topics) store.topic(topic);
    this.#topicsJson = JSON.stringify(this.#topics);
    this.#startFrom = startFrom;
    this.#ephemeral = options.ephemeral === true;
    this.#onClose = onClose;
    const now = Date.now();
    if (this.#ephemeral) {
      this.#assign(
        this.#topics.flatMap((topic) =>
          Array.from({ length: store.topic(topic).partitions }, (_, partition) => ({ topic, partition })),
        ),
      );
      return;
    }
    this.#refresh(now);
    const interval = store.options.heartbeatIntervalMs;
    this.#timer = setInterval(() => this.#idleHeartbeat(), interval);
    this.#timer.unref();
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
      const now = Date.now();
      this.#refresh(now);
      const records = this.#fetch(maxRecords, now);
      if (records.length > 0 || now >= deadline) return records;
      await this.#wakeup.wait(Math.min(deadline, this.#nextMembershipChange), signal);
    }
  }

  async commit(records: readonly ConsumedRecord[]): Promise<void> {
    this.#ensureOpen();
    if (this.#ephemeral) return;
    const next = new Map<string, { topic: string; partition: number; offset: number }>();
    for (const record of records) {
      const key = tpKey(record.topic, record.partition);
      if (!this.#positions.has(key)) continue;
      const offset = parseOffset(record.offset) + 1;
      const seen = next.get(key);
      if (seen === undefined || offset > seen.offset) next.set(key, { ...record, offset });
    }
    for (const [key, c] of next) {
      const pending = this.#uncommitted.get(key);
      if (pending === undefined || c.offset > pending.offset) this.#uncommitted.set(key, c);
    }
    if (this.#uncommitted.size === 0) return;
    // Never wait for the write lock here: if a publish holds it, these positions go with the next commit
    // (or at close). Committing late only means a crash redelivers a little more, which consumers skip.
    const written = this.#store.tryWrite('commit', () => this.#writeUncommitted(), { durable: false });
    if (written.ok) this.#uncommitted.clear();
  }

  #writeUncommitted(): void {
    const sql = this.#store.sql;
    for (const c of this.#uncommitted.values())
      sql.commitOffset.run(this.#group, c.topic, c.partition, c.offset);
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
    const now = Date.now();
    this.#refresh(now);
    const meta = this.#store.topic(topic);
    const partitions = this.#store.partitionsOf(meta, target);
    this.#store.read('seek', () => {
      for (const partition of partitions) {
        const key = tpKey(topic, partition);
        if (this.#positions.has(key))
          this.#positions.set(key, this.#store.position(meta, partition, target, now));
      }
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#stop();
    if (!this.#ephemeral && this.#store.db.open) {
      this.#store.write('leaving the group', () => {
        this.#writeUncommitted();
        this.#store.sql.deleteMember.run(this.#group, this.#memberId);
      });
      this.#uncommitted.clear();
      notifyCommitted(this.#store.file);
    }
  }

  /** Stops without leaving the group, as if the process died (the member times out). For fault tests. */
  abandon(): void {
    if (!this.#closed) this.#stop();
  }

  #stop(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#wakeup.wakeAll();
    this.#onClose(this);
  }

  #ensureOpen(): void {
    if (this.#closed) throw new ClosedError(`${LOG_NAME} subscription of group ${this.#group}`);
  }

  #idleHeartbeat(): void {
    if (this.#closed || Date.now() - this.#lastHeartbeat < this.#store.options.heartbeatIntervalMs / 2)
      return;
    try {
      this.#heartbeat(Date.now());
    } catch {
      // The next poll heartbeats again and reports a lasting failure.
    }
  }

  /** Writes this member's heartbeat; notes when the group had considered it dead in the meantime. */
  #heartbeat(now: number): void {
    const { sql, options } = this.#store;
    const written = this.#store.tryWrite(
      'heartbeat',
      () => {
        const row = sql.selectMember.get(this.#group, this.#memberId);
        sql.upsertMember.run(this.#group, this.#memberId, this.#topicsJson, now, options.sessionTimeoutMs);
        return row;
      },
      { durable: false },
    );
    // Busy: the next poll (or the idle timer) tries again, well within the session timeout.
    if (!written.ok) return;
    const previous = written.value;
    if (
      this.#joined &&
      (previous === undefined || previous.heartbeat_at + previous.session_timeout_ms < now)
    ) {
      this.#lost = true;
    }
    if (!this.#joined || this.#lost) notifyCommitted(this.#store.file);
    this.#joined = true;
    this.#lastHeartbeat = now;
  }

  /** Heartbeats if due and recomputes this member's partitions from the live members. */
  #refresh(now: number): void {
    if (this.#ephemeral) return;
    const gap = Math.max(POLL_HEARTBEAT_GAP_MS, this.#store.options.heartbeatIntervalMs / 2);
    if (now - this.#lastHeartbeat >= gap) this.#heartbeat(now);
    const rows = this.#store.read('reading the group', () => this.#store.sql.selectMembers.all(this.#group));
    const live: AssignableMember[] = [];
    let nextChange = Number.POSITIVE_INFINITY;
    let self = false;
    for (const row of rows) {
      if (row.member_id === this.#memberId) {
        self = true;
      } else {
        const expires = row.heartbeat_at + row.session_timeout_ms;
        if (expires < now) continue;
        nextChange = Math.min(nextChange, expires + 1);
      }
      live.push({ memberId: row.member_id, topics: this.#parseTopics(row.topics) });
    }
    if (!self) live.push({ memberId: this.#memberId, topics: new Set(this.#topics) });
    this.#nextMembershipChange = nextChange;
    if (this.#lost) {
      this.#positions.clear();
      this.#lost = false;
    }
    const partitionsOf = (topic: string) => this.#store.findTopic(topic)?.partitions;
    this.#store.read('reading committed offsets', () =>
      this.#assign(assignPartitions(live, partitionsOf, this.#memberId)),
    );
  }

  /** Keeps fetch positions of partitions still assigned; starts new ones at the committed offset. */
  #assign(partitions: readonly TopicPartition[]): void {
    const positions = new Map<string, number>();
    const { sql } = this.#store;
    for (const { topic, partition } of partitions) {
      const key = tpKey(topic, partition);
      let position = this.#positions.get(key);
      if (position === undefined) {
        const committed = this.#ephemeral
          ? undefined
          : sql.selectCommitted.get(this.#group, topic, partition);
        position = committed ?? (this.#startFrom === 'latest' ? this.#store.nextOffset(topic, partition) : 0);
      }
      positions.set(key, position);
    }
    this.#positions = positions;
    this.#assignment = Object.freeze(partitions.map((tp) => Object.freeze({ ...tp })));
  }

  #fetch(maxRecords: number, now: number): ConsumedRecord[] {
    const out: ConsumedRecord[] = [];
    const assigned = this.#assignment;
    const n = assigned.length;
    if (n === 0) return out;
    const start = this.#rotor++ % n;
    this.#store.read('poll', () => {
      for (let i = 0; i < n && out.length < maxRecords; i++) {
        const { topic, partition } = assigned[(start + i) % n]!;
        const key = tpKey(topic, partition);
        const meta = this.#store.topic(topic);
        const from = this.#positions.get(key)!;
        this.#positions.set(key, this.#store.fetch(meta, partition, from, maxRecords - out.length, now, out));
      }
    });
    return out;
  }

  #parseTopics(json: string): ReadonlySet<string> {
    let topics = this.#parsedTopics.get(json);
    if (topics === undefined) {
      topics = new Set(JSON.parse(json) as string[]);
      this.#parsedTopics.set(json, topics);
    }
    return topics;
  }
}
