/**
 * The key layout under one prefix (`sluice` by default):
 *
 * - `<prefix>:topic:<topic>` hash: `kind`, `partitions`, `retentionMs` (ensureTopic refuses mismatches).
 * - `<prefix>:stream:<topic>:<p>` stream: one per partition; fields `k` (key), `v` (value, absent for a
 *   tombstone), `h` (headers as JSON, absent when none).
 * - `<prefix>:latest:<topic>:<p>` hash (entity topics): key → stream id of its latest entry.
 * - `<prefix>:tombstones:<topic>:<p>` sorted set (entity topics): keys whose latest entry is a tombstone →
 *   when it was written (ms); the sweep deletes tombstones older than `tombstoneRetentionMs`.
 * - `<prefix>:topics` set: every topic name (what the sweep walks).
 * - `<prefix>:group:<group>:members` sorted set: member id → heartbeat expiry (ms since the epoch).
 * - `<prefix>:group:<group>:topics` hash: member id → JSON list of its topics.
 * - `<prefix>:group:<group>:changes` stream: one entry per join and leave, to wake waiting members.
 * - `<prefix>:group:<group>:committed:<topic>` hash: partition → next offset to consume (decimal).
 * - `<prefix>:group:<group>:owner:<topic>:<p>` string with a TTL: the member that owns the partition; a new
 *   owner reads a partition only once the previous one released it (or its claim expired).
 *
 * Group names are URI-encoded so that no `:` in a name can collide with another group's keys.
 */
export class RedisKeys {
  readonly #prefix: string;

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  topic(topic: string): string {
    return `${this.#prefix}:topic:${topic}`;
  }

  stream(topic: string, partition: number): string {
    return `${this.#prefix}:stream:${topic}:${partition}`;
  }

  latest(topic: string, partition: number): string {
    return `${this.#prefix}:latest:${topic}:${partition}`;
  }

  tombstones(topic: string, partition: number): string {
    return `${this.#prefix}:tombstones:${topic}:${partition}`;
  }

  topicNames(): string {
    return `${this.#prefix}:topics`;
  }

  members(group: string): string {
    return `${this.#group(group)}:members`;
  }

  memberTopics(group: string): string {
    return `${this.#group(group)}:topics`;
  }

  changes(group: string): string {
    return `${this.#group(group)}:changes`;
  }

  owner(group: string, topic: string, partition: number): string {
    return `${this.#group(group)}:owner:${topic}:${partition}`;
  }

  committed(group: string, topic: string): string {
    return `${this.#group(group)}:committed:${topic}`;
  }

  #group(group: string): string {
    return `${this.#prefix}:group:${encodeURIComponent(group)}`;
  }
}
