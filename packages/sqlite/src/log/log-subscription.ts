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
} from '@sluice/core/adapter';
import type { CommitWakeup } from '../commit-wakeup.js';

import { LOG_NAME, parseOffset } from './log-errors.js';
import { LogMembershipStore } from './log-membership-store.js';
import type { LogStore } from './log-store.js';

/**
 * One member of a consumer group on the embedded log (or an ephemeral reader of every partition).
 *
 * The member cycle (heartbeats, assignment from the live members, seeding, round-robin fetch, commits) is
 * core's group engine; membership lives in the log file ({@link LogMembershipStore}), so all processes agree
 * without talking to each other. This class keeps only the log's fetch, positions and waiting. Nothing is
 * prefetched: a member that does not poll holds no records in memory.
 */
export class LogSubscription implements Subscription {
  readonly #store: LogStore;
  readonly #wakeup: CommitWakeup;
  readonly #group: string;
  readonly #topics: readonly string[];
  readonly #onClose: (subscription: LogSubscription) => void;
  readonly #member: GroupMember;
  #closed = false;

  /** Validates the options; `start()` joins the group. Use `LogTransport.subscribe`. */
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
    this.#topics = [...new Set(options.topics)].sort();
    for (const topic of this.#topics) store.topic(topic);
    this.#onClose = onClose;
    this.#member = createGroupMember({
      store: new LogMembershipStore(store, options.group),
      memberId: options.memberId ?? randomUUID(),
      topics: this.#topics,
      startFrom,
      ephemeral: options.ephemeral === true,
      heartbeatIntervalMs: store.options.heartbeatIntervalMs,
      sessionTimeoutMs: store.options.sessionTimeoutMs,
      partitionCount: (topic) => store.findTopic(topic)?.partitions,
      latest: async (topic, partitions) =>
        store.read('reading the log end', () => partitions.map((p) => BigInt(store.nextOffset(topic, p)))),
      fetch: async (cursors, maxRecords) => {
        const out: ConsumedRecord[] = [];
        const now = Date.now();
        store.read('poll', () => {
          for (const cursor of cursors) {
            if (out.length >= maxRecords) break;
            const meta = store.topic(cursor.topic);
            const from = Number(cursor.next);
            const next = store.fetch(meta, cursor.partition, from, maxRecords - out.length, now, out);
            cursor.next = BigInt(next);
          }
        });
        return out;
      },
      wait: (until, signal) => wakeup.wait(until, signal),
      parseOffset: (offset) => BigInt(parseOffset(offset)),
    });
  }

  /** Joins the group (first heartbeat and assignment) and starts the idle heartbeat. */
  async start(): Promise<this> {
    await this.#member.start();
    return this;
  }

  /** This member's id in the group. */
  get memberId(): string {
    return this.#member.memberId;
  }

  async poll(options: PollOptions): Promise<ConsumedRecord[]> {
    this.#ensureOpen();
    checkPollOptions(options);
    return this.#member.poll(options);
  }

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
    const meta = this.#store.topic(topic);
    const partitions = this.#store.partitionsOf(meta, target);
    const now = Date.now();
    await this.#member.seek(topic, partitions, async (owned) =>
      this.#store.read('seek', () => owned.map((p) => BigInt(this.#store.position(meta, p, target, now)))),
    );
  }

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
    this.#wakeup.wakeAll();
    this.#onClose(this);
  }

  #ensureOpen(): void {
    if (this.#closed) throw new ClosedError(`${LOG_NAME} subscription of group ${this.#group}`);
  }
}
