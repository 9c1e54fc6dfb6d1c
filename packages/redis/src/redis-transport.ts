import { createClient } from '@redis/client';
import {
  ClosedError,
  type ConsumedRecord,
  InvalidOptionError,
  type OutgoingRecord,
  type PartitionLag,
  type PublishAck,
  type SeekTarget,
  type SubscribeOptions,
  type Subscription,
  type TopicSpec,
  type Transport,
} from '@sluice/core';
import { mergeByTime } from '@sluice/core/adapter';
import { brokerError, connectError, REDIS_NAME } from './redis-errors.js';
import { fetchPartitions, partitionsOf, positionsOf } from './redis-fetch.js';
import { RedisKeys } from './redis-keys.js';
import { readLag } from './redis-lag.js';
import {
  type RedisTransportOptions,
  type ResolvedRedisOptions,
  resolveRedisOptions,
} from './redis-options.js';
import { publishRecords } from './redis-publish.js';
import { type RedisContext, RedisSubscription } from './redis-subscription.js';
import { type SweepResult, sweepTopics } from './redis-sweep.js';
import { type RedisClient, RedisTopics } from './redis-topics.js';

/**
 * Sluice's bus on Redis Streams: a stream per topic partition, topic metadata in a hash, consumer groups as
 * members that own whole partitions (see {@link RedisSubscription}) with committed positions in a hash.
 *
 * Durability is the server's: an acknowledged publish is as safe as Redis's persistence settings make it. Run
 * Redis with `appendonly yes` and `appendfsync always` (Redis replies after the append-only file is fsynced:
 * nothing acknowledged is lost even on power loss); `appendfsync everysec` (Redis's default) survives a crash
 * of the Redis process (the write is in the OS page cache) but may lose up to ~1 s of acknowledged publishes
 * on a machine or power loss; RDB snapshots alone lose everything since the last snapshot. Replicas are
 * asynchronous: a failover can lose acknowledged writes unless the writer waits for them (WAIT), which this
 * transport does not do. See the package README.
 *
 * The connection reconnects by itself after a server restart; calls made meanwhile fail with a retryable
 * `SLUICE_BROKER_UNAVAILABLE` or wait in the client's queue until the server is back.
 */
export class RedisTransport implements Transport {
  readonly name = REDIS_NAME;
  /** The options in force, defaults applied. */
  readonly options: ResolvedRedisOptions;
  readonly #client: RedisClient;
  readonly #ctx: RedisContext;
  readonly #subscriptions = new Set<RedisSubscription>();
  readonly #sweeper: NodeJS.Timeout;
  #sweeping = false;
  #closed = false;

  private constructor(options: ResolvedRedisOptions, client: RedisClient) {
    this.options = options;
    this.#client = client;
    const keys = new RedisKeys(options.keyPrefix);
    this.#ctx = { client, keys, topics: new RedisTopics(client, keys), options };
    this.#sweeper = setInterval(() => this.#sweepQuietly(), options.sweepIntervalMs);
    this.#sweeper.unref();
  }

  /** Connects to the server. Use {@link createRedisTransport}. */
  static async connect(input: RedisTransportOptions): Promise<RedisTransport> {
    const options = resolveRedisOptions(input);
    const startedAt = Date.now();
    let connected = false;
    const client = createClient({
      url: options.url,
      // Calls made while the connection is down fail at once (retryable) instead of waiting in a queue for as
      // long as the outage lasts: the relay retries publishes, polls wait and try again until their deadline.
      disableOfflineQueue: true,
      socket: {
        connectTimeout: Math.min(5000, options.connectTimeoutMs),
        // Once connected, reconnect for ever; the first connection gives up after connectTimeoutMs.
        reconnectStrategy: (retries: number, cause: Error) =>
          !connected && Date.now() - startedAt >= options.connectTimeoutMs
            ? cause
            : Math.min(25 * 2 ** retries, options.maxReconnectDelayMs),
      },
    }) as unknown as RedisClient;
    client.on('error', () => undefined); // the client reconnects by itself; calls report failures
    try {
      await client.connect();
      connected = true;
    } catch (cause) {
      client.destroy();
      throw connectError(options.url, cause);
    }
    return new RedisTransport(options, client);
  }

  async ensureTopic(spec: TopicSpec): Promise<void> {
    this.#ensureOpen();
    await this.#ctx.topics.ensure(spec);
  }

  async publish(records: readonly OutgoingRecord[]): Promise<PublishAck[]> {
    this.#ensureOpen();
    if (!Array.isArray(records)) throw new InvalidOptionError('publish', 'records', 'must be an array');
    const { client, keys, topics } = this.#ctx;
    return publishRecords(client, keys, topics, records, this.options.maxPayloadBytes);
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.#ensureOpen();
    const subscription = await RedisSubscription.open(this.#ctx, options, (s) =>
      this.#subscriptions.delete(s),
    );
    this.#subscriptions.add(subscription);
    return subscription;
  }

  async resetOffsets(group: string, topic: string, target: SeekTarget): Promise<void> {
    this.#ensureOpen();
    if (typeof group !== 'string' || group === '') {
      throw new InvalidOptionError(
        'resetOffsets',
        'group',
        `must be a non-empty string, got ${JSON.stringify(group)}`,
      );
    }
    const { client, keys, topics } = this.#ctx;
    const meta = await topics.get(topic);
    const partitions = partitionsOf(meta, target);
    if (partitions.length === 0) return;
    const positions = await positionsOf(client, keys, meta, partitions, target);
    try {
      await client.sendCommand([
        'HSET',
        keys.committed(group, topic),
        ...partitions.flatMap((p, i) => [String(p), String(positions[i]!)]),
      ]);
    } catch (cause) {
      throw brokerError(`resetOffsets(${group}, ${topic})`, cause);
    }
  }

  async lag(group: string, topic: string): Promise<readonly PartitionLag[]> {
    this.#ensureOpen();
    const { client, keys, topics } = this.#ctx;
    return readLag(client, keys, await topics.get(topic), group, Date.now());
  }

  async read(topic: string, target: SeekTarget, limit: number): Promise<ConsumedRecord[]> {
    this.#ensureOpen();
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw new InvalidOptionError('read', 'limit', `must be an integer >= 0, got ${limit}`);
    }
    const { client, keys, topics } = this.#ctx;
    const meta = await topics.get(topic);
    if (limit === 0) return [];
    const partitions = partitionsOf(meta, target);
    const positions = await positionsOf(client, keys, meta, partitions, target);
    const results = await fetchPartitions(
      client,
      keys,
      partitions.map((partition, i) => ({ topic: meta, partition, next: positions[i]! })),
      limit,
      Date.now(),
    );
    return mergeByTime(
      results.map((r) => r.records),
      limit,
    );
  }

  /** Deletes expired message entries and old tombstones now (it also runs every `sweepIntervalMs`). */
  async sweep(): Promise<SweepResult> {
    this.#ensureOpen();
    const { client, keys, topics } = this.#ctx;
    return sweepTopics(client, keys, topics, this.options.tombstoneRetentionMs, Date.now());
  }

  #sweepQuietly(): void {
    if (this.#closed || this.#sweeping) return;
    this.#sweeping = true;
    this.sweep()
      .catch(() => undefined) // the next sweep tries again; reads never return expired entries meanwhile
      .finally(() => {
        this.#sweeping = false;
      });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweeper);
    const failures: unknown[] = [];
    for (const subscription of [...this.#subscriptions]) {
      await subscription.close().catch((error: unknown) => failures.push(error));
    }
    await Promise.race([
      this.#client.close().catch(() => undefined),
      new Promise((resolve) => setTimeout(resolve, 1000).unref()),
    ]);
    this.#client.destroy();
    if (failures.length > 0) throw failures[0];
  }

  /**
   * Drops the connection without leaving consumer groups, as if the process had been killed: members stop
   * heartbeating and time out after `sessionTimeoutMs`. For fault tests; use `close()` otherwise.
   */
  abandon(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweeper);
    for (const subscription of [...this.#subscriptions]) subscription.abandon();
    this.#client.destroy();
  }

  #ensureOpen(): void {
    if (this.#closed) throw new ClosedError(`${REDIS_NAME} transport (${this.options.url})`);
  }
}

/**
 * Connects a Redis Streams transport, e.g. `await createRedisTransport({ url: 'redis://127.0.0.1:6379' })`.
 * Options are validated first (`SLUICE_INVALID_OPTION` names the field).
 */
export async function createRedisTransport(options: RedisTransportOptions): Promise<RedisTransport> {
  return RedisTransport.connect(options);
}
