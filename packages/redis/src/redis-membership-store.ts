import { isRetryable, type TopicPartition } from '@sluice/core';
import type {
  ClaimAnswer,
  CommitPosition,
  HeartbeatResult,
  MembershipStore,
  StoredMember,
} from '@sluice/core/adapter';

import { brokerError } from './redis-errors.js';
import type { RedisKeys } from './redis-keys.js';
import { hashEntries, scoreEntries } from './redis-replies.js';
import { CLAIM_SCRIPT, COMMIT_SCRIPT } from './redis-scripts.js';
import type { RedisClient } from './redis-topics.js';

const CLAIM_ANSWERS: readonly ClaimAnswer[] = ['denied', 'held', 'taken'];

/**
 * A consumer group's state on Redis: each member's heartbeat expiry is its score in the group's `members`
 * sorted set (its topics in the `memberTopics` hash); joins and leaves append to the group's `changes` stream,
 * which waiting members watch so they rebalance at once; committed positions sit in one hash per topic,
 * written forward only by a script. Partitions are fenced by claims (an owner key per partition with the
 * session timeout as TTL, see `CLAIM_SCRIPT`), so no partition is read by two members at once.
 */
export class RedisMembershipStore implements MembershipStore {
  readonly #client: RedisClient;
  readonly #keys: RedisKeys;
  readonly #group: string;
  readonly #sessionTimeoutMs: number;
  #changesId = '0-0';

  constructor(client: RedisClient, keys: RedisKeys, group: string, sessionTimeoutMs: number) {
    this.#client = client;
    this.#keys = keys;
    this.#group = group;
    this.#sessionTimeoutMs = sessionTimeoutMs;
  }

  /** The id of the last entry of the group's `changes` stream as of the last `members` read. */
  get changesId(): string {
    return this.#changesId;
  }

  async heartbeat(
    memberId: string,
    topics: readonly string[],
    now: number,
    first: boolean,
  ): Promise<HeartbeatResult> {
    const keys = this.#keys;
    const pipeline = this.#client.multi();
    pipeline.addCommand(['ZSCORE', keys.members(this.#group), memberId]);
    pipeline.addCommand(['ZADD', keys.members(this.#group), String(now + this.#sessionTimeoutMs), memberId]);
    pipeline.addCommand(['HSET', keys.memberTopics(this.#group), memberId, JSON.stringify(topics)]);
    if (first) pipeline.addCommand(this.#change('joined', memberId));
    let replies: unknown[];
    try {
      replies = (await pipeline.execAsPipeline()) as unknown[];
    } catch (cause) {
      throw brokerError(`heartbeat in group ${this.#group}`, cause);
    }
    const previous = replies[0];
    return { written: true, previousExpiresAt: previous == null ? undefined : Number(previous) };
  }

  async members(now: number): Promise<readonly StoredMember[]> {
    const keys = this.#keys;
    let replies: unknown[];
    try {
      const pipeline = this.#client.multi();
      pipeline.addCommand(['ZRANGEBYSCORE', keys.members(this.#group), String(now), '+inf', 'WITHSCORES']);
      pipeline.addCommand(['HGETALL', keys.memberTopics(this.#group)]);
      pipeline.addCommand(['XREVRANGE', keys.changes(this.#group), '+', '-', 'COUNT', '1']);
      replies = (await pipeline.execAsPipeline()) as unknown[];
    } catch (cause) {
      throw brokerError(`reading the members of group ${this.#group}`, cause);
    }
    const [scores, topicsReply, lastChange] = replies as [unknown, unknown, [string, string[]][]];
    const last = lastChange[0]?.[0];
    if (last !== undefined) this.#changesId = last;
    const topicsOf = new Map(hashEntries(topicsReply));
    return scoreEntries(scores).map(([memberId, expiresAt]) => {
      const json = topicsOf.get(memberId);
      return {
        memberId,
        expiresAt,
        topics: new Set(json === undefined ? [] : (JSON.parse(json) as string[])),
      };
    });
  }

  async committed(topic: string, partitions: readonly number[]): Promise<readonly (bigint | undefined)[]> {
    let reply: (string | null)[];
    try {
      reply = (await this.#client.sendCommand([
        'HMGET',
        this.#keys.committed(this.#group, topic),
        ...partitions.map(String),
      ])) as (string | null)[];
    } catch (cause) {
      throw brokerError(`reading committed positions of group ${this.#group}`, cause);
    }
    return partitions.map((_, i) => {
      const c = reply[i];
      return c == null ? undefined : BigInt(c);
    });
  }

  /** An unreachable server is not a failure here: the engine keeps the positions and writes them later. */
  async commit(positions: readonly CommitPosition[]): Promise<boolean> {
    try {
      await Promise.all(this.#commitCommands(positions).map((c) => this.#client.sendCommand(c)));
      return true;
    } catch (cause) {
      const error = brokerError(`commit of group ${this.#group}`, cause);
      if (isRetryable(error)) return false;
      throw error;
    }
  }

  async leave(memberId: string, pending: readonly CommitPosition[], owned: readonly TopicPartition[]) {
    const keys = this.#keys;
    try {
      const pipeline = this.#client.multi();
      for (const command of this.#commitCommands(pending)) pipeline.addCommand(command);
      if (owned.length > 0) pipeline.addCommand(this.#claimCommand(memberId, [], owned));
      pipeline.addCommand(['ZREM', keys.members(this.#group), memberId]);
      pipeline.addCommand(['HDEL', keys.memberTopics(this.#group), memberId]);
      pipeline.addCommand(this.#change('left', memberId));
      await pipeline.execAsPipeline();
    } catch (cause) {
      const error = brokerError(`leaving group ${this.#group}`, cause);
      // Unreachable server: the member times out after the session timeout, as if it had crashed, and its
      // partitions restart from the last commit that was written. Anything else is reported.
      if (!isRetryable(error)) throw error;
    }
  }

  async claim(
    memberId: string,
    wanted: readonly TopicPartition[],
    release: readonly TopicPartition[],
  ): Promise<readonly ClaimAnswer[]> {
    let reply: unknown;
    try {
      reply = await this.#client.sendCommand(this.#claimCommand(memberId, wanted, release));
    } catch (cause) {
      throw brokerError(`claiming partitions in group ${this.#group}`, cause);
    }
    const answers = Array.isArray(reply) ? reply.map(Number) : [];
    return wanted.map((_, i) => CLAIM_ANSWERS[answers[i] ?? 0] ?? 'denied');
  }

  /** The COMMIT_SCRIPT calls (one per topic) that move positions forward. */
  #commitCommands(positions: readonly CommitPosition[]): string[][] {
    const byTopic = new Map<string, CommitPosition[]>();
    for (const p of positions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p]);
    return [...byTopic].map(([topic, list]) => [
      'EVAL',
      COMMIT_SCRIPT,
      '1',
      this.#keys.committed(this.#group, topic),
      ...list.flatMap((p) => [String(p.partition), String(p.next)]),
    ]);
  }

  /** The CLAIM_SCRIPT call that claims (or renews) `wanted` and releases `release`. */
  #claimCommand(
    memberId: string,
    wanted: readonly TopicPartition[],
    release: readonly TopicPartition[],
  ): string[] {
    const owner = (tp: TopicPartition) => this.#keys.owner(this.#group, tp.topic, tp.partition);
    return [
      'EVAL',
      CLAIM_SCRIPT,
      String(wanted.length + release.length + 1),
      ...wanted.map(owner),
      ...release.map(owner),
      this.#keys.changes(this.#group),
      memberId,
      String(this.#sessionTimeoutMs),
      String(wanted.length),
    ];
  }

  #change(kind: 'joined' | 'left', memberId: string): string[] {
    return ['XADD', this.#keys.changes(this.#group), 'MAXLEN', '~', '1000', '*', kind, memberId];
  }
}
