import type { TopicPartition } from '@sluice/core';
import type { CommitPosition, HeartbeatResult, MembershipStore, StoredMember } from '@sluice/core/adapter';
import { notifyCommitted } from '../commit-wakeup.js';
import type { LogStore } from './log-store.js';

/**
 * A consumer group's state in the log file: heartbeats in `sluice_log_members` (one row per member, with its
 * topics and session timeout), committed offsets in the offsets table (forward only). Heartbeats and commits
 * never wait for another process's write lock (`{ written: false }` / `false`: the engine tries again), so a
 * consumer never blocks on the relay's publish. Joins and leaves wake this process's waiting polls at once
 * (others' within their poll interval).
 */
export class LogMembershipStore implements MembershipStore {
  readonly #store: LogStore;
  readonly #group: string;
  readonly #parsedTopics = new Map<string, ReadonlySet<string>>();

  constructor(store: LogStore, group: string) {
    this.#store = store;
    this.#group = group;
  }

  async heartbeat(
    memberId: string,
    topics: readonly string[],
    now: number,
    first: boolean,
  ): Promise<HeartbeatResult> {
    const { sql, options } = this.#store;
    const written = this.#store.tryWrite(
      'heartbeat',
      () => {
        const row = sql.selectMember.get(this.#group, memberId);
        sql.upsertMember.run(this.#group, memberId, JSON.stringify(topics), now, options.sessionTimeoutMs);
        return row;
      },
      { durable: false },
    );
    if (!written.ok) return { written: false };
    const previous = written.value;
    const previousExpiresAt =
      previous === undefined ? undefined : previous.heartbeat_at + previous.session_timeout_ms;
    if (first || previousExpiresAt === undefined || previousExpiresAt < now)
      notifyCommitted(this.#store.file);
    return { written: true, previousExpiresAt };
  }

  async members(): Promise<readonly StoredMember[]> {
    const rows = this.#store.read('reading the group', () => this.#store.sql.selectMembers.all(this.#group));
    return rows.map((row) => ({
      memberId: row.member_id,
      topics: this.#parseTopics(row.topics),
      expiresAt: row.heartbeat_at + row.session_timeout_ms,
    }));
  }

  async committed(topic: string, partitions: readonly number[]): Promise<readonly (bigint | undefined)[]> {
    return this.#store.read('reading committed offsets', () =>
      partitions.map((partition) => {
        const next = this.#store.sql.selectCommitted.get(this.#group, topic, partition);
        return next === undefined ? undefined : BigInt(next);
      }),
    );
  }

  /**
   * Never waits for the write lock: if a publish holds it, the engine keeps these positions for the next
   * commit (or leave). Committing late only means a crash redelivers a little more, which consumers skip.
   */
  async commit(positions: readonly CommitPosition[]): Promise<boolean> {
    return this.#store.tryWrite('commit', () => this.#write(positions), { durable: false }).ok;
  }

  async leave(memberId: string, pending: readonly CommitPosition[], _owned: readonly TopicPartition[]) {
    if (!this.#store.db.open) return;
    this.#store.write('leaving the group', () => {
      this.#write(pending);
      this.#store.sql.deleteMember.run(this.#group, memberId);
    });
    notifyCommitted(this.#store.file);
  }

  #write(positions: readonly CommitPosition[]): void {
    const sql = this.#store.sql;
    for (const c of positions) sql.commitOffset.run(this.#group, c.topic, c.partition, Number(c.next));
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
