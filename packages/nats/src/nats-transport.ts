import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  ClosedError,
  type ConsumedRecord,
  InvalidOptionError,
  isRetryable,
  type OutgoingRecord,
  type PartitionLag,
  type PublishAck,
  type SeekTarget,
  type SubscribeOptions,
  type Subscription,
  type TopicSpec,
  type Transport,
} from '@sluice/core';
import { maskUrl } from '@sluice/core/adapter';
import { decodeRecord } from './nats-codec.js';
import { NatsCursor } from './nats-cursor.js';
import { connectError, NATS_NAME, natsError } from './nats-errors.js';
import { NatsGroups } from './nats-groups.js';
import { readLag } from './nats-lag.js';
import { type NatsNames, natsNames } from './nats-names.js';
import { type NatsTransportOptions, type ResolvedNatsOptions, resolveNatsOptions } from './nats-options.js';
import { partitionsOf, positionOf } from './nats-positions.js';
import { publishRecords } from './nats-publish.js';
import { NatsSubscription } from './nats-subscription.js';
import { type SweepResult, sweepTombstones } from './nats-sweep.js';
import { type NatsTopic, NatsTopics } from './nats-topics.js';

/** The longest a no_wait pull may take before its reader is considered lost. */
const MAX_PULL_TIMEOUT_MS = 3000;
/** How many times `read` opens a reader before it gives up on a retryable failure. */
const READ_ATTEMPTS = 3;

/**
 * The NATS JetStream transport. Layout (all names under the `namespace`):
 *
 * - a stream per topic (`SLUICE-<ns>-<topic>`), a subject per partition (`sluice.<ns>.t.<topic>.<partition>`;
 *   entity topics add the key, `.<partition>.k<base64url key>`, with `max_msgs_per_subject = 1`, so the stream
 *   keeps the latest value per key); message topics have `max_age` = their retention, and records older than
 *   it are never delivered even before the server's expiry timer removes them;
 * - offsets are stream sequences, so they grow within a partition; `Nats-Msg-Id` = the record id
 *   de-duplicates republished records within the stream's duplicate window (2 min, or the retention);
 * - consumer groups: membership and committed positions in two streams per namespace (see `NatsGroups`),
 *   records read by per-member ephemeral pull consumers (see `NatsCursor`, `NatsSubscription`).
 */
export class NatsTransport implements Transport {
  readonly name = NATS_NAME;
  /** The options in force, defaults applied. */
  readonly options: ResolvedNatsOptions;
  readonly #nc: NatsConnection;
  readonly #jsm: JetStreamManager;
  readonly #names: NatsNames;
  readonly #topics: NatsTopics;
  readonly #groups: NatsGroups;
  readonly #maxPayloadBytes: number;
  readonly #subscriptions = new Set<NatsSubscription>();
  readonly #sweeper: NodeJS.Timeout;
  #sweeping = false;
  #closed = false;

  private constructor(options: ResolvedNatsOptions, nc: NatsConnection, jsm: JetStreamManager) {
    this.options = options;
    this.#nc = nc;
    this.#jsm = jsm;
    this.#names = natsNames(options.namespace);
    this.#topics = new NatsTopics(jsm, this.#names, options.replicas);
    this.#groups = new NatsGroups(nc, jsm, this.#names, options.replicas, options.requestTimeoutMs);
    const serverMax = nc.info?.max_payload ?? 1024 * 1024;
    this.#maxPayloadBytes = Math.min(serverMax, options.maxPayloadBytes ?? serverMax);
    this.#sweeper = setInterval(() => void this.#sweepQuietly(), options.sweepIntervalMs);
    this.#sweeper.unref();
  }

  /** Connects to the servers and checks JetStream is enabled. */
  static async connect(options: NatsTransportOptions): Promise<NatsTransport> {
    const resolved = resolveNatsOptions(options);
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: [...resolved.servers],
        name: resolved.name,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        timeout: resolved.requestTimeoutMs,
        // Every request would otherwise build two Error objects up front for their stack traces (a fifth of
        // the CPU of a publish); Sluice's errors say which operation failed.
        noAsyncTraces: true,
      });
    } catch (error) {
      throw connectError(resolved.servers, error);
    }
    try {
      const jsm = await jetstreamManager(nc, { timeout: resolved.requestTimeoutMs });
      return new NatsTransport(resolved, nc, jsm);
    } catch (error) {
      await nc.close().catch(() => undefined);
      throw natsError(
        `enabling JetStream on ${resolved.servers.map(maskUrl).join(',')} (is the server started with -js?)`,
        error,
      );
    }
  }

  /** The largest record accepted, in bytes (the server's `max_payload` unless lowered by the options). */
  get maxPayloadBytes(): number {
    return this.#maxPayloadBytes;
  }

  async ensureTopic(spec: TopicSpec): Promise<void> {
    this.#ensureOpen();
    await this.#topics.ensure(spec);
  }

  async publish(records: readonly OutgoingRecord[]): Promise<PublishAck[]> {
    this.#ensureOpen();
    if (!Array.isArray(records)) throw new InvalidOptionError('publish', 'records', 'must be an array');
    return publishRecords(
      {
        nc: this.#nc,
        names: this.#names,
        topics: this.#topics,
        maxPayloadBytes: this.#maxPayloadBytes,
        requestTimeoutMs: this.options.requestTimeoutMs,
      },
      records,
    );
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.#ensureOpen();
    const subscription = await NatsSubscription.open(
      {
        nc: this.#nc,
        jsm: this.#jsm,
        pullTimeoutMs: this.#pullTimeoutMs(),
        groups: this.#groups,
        sessionTimeoutMs: this.options.sessionTimeoutMs,
        heartbeatIntervalMs: this.options.heartbeatIntervalMs,
        isClosed: () => this.#closed,
      },
      options,
      (name) => this.#topics.get(name),
      (s) => this.#subscriptions.delete(s),
    );
    if (this.#closed) {
      subscription.abandon();
      throw new ClosedError(`${NATS_NAME} transport`);
    }
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
    const meta = await this.#topics.get(topic);
    const partitions = partitionsOf(meta, target);
    await this.#groups.ensureStreams();
    const position = await positionOf(this.#cursorContext(), this.#names, meta, target);
    await Promise.all(partitions.map((p) => this.#groups.commit(group, topic, p, position)));
  }

  async lag(group: string, topic: string): Promise<readonly PartitionLag[]> {
    this.#ensureOpen();
    const meta = await this.#topics.get(topic);
    return readLag(this.#cursorContext(), this.#names, this.#groups, meta, group, Date.now());
  }

  async read(topic: string, target: SeekTarget, limit: number): Promise<ConsumedRecord[]> {
    this.#ensureOpen();
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw new InvalidOptionError('read', 'limit', `must be an integer >= 0, got ${limit}`);
    }
    const meta = await this.#topics.get(topic);
    partitionsOf(meta, target);
    if (limit === 0 || target.to === 'latest') return [];
    // A reader whose pull got no answer (its consumer's node busy or electing a leader, seen on a loaded
    // cluster) is opened again from the start: a read has no position to lose.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#readOnce(topic, meta, target, limit);
      } catch (error) {
        if (attempt >= READ_ATTEMPTS || !isRetryable(error) || this.#closed) throw error;
      }
    }
  }

  async #readOnce(
    topic: string,
    meta: NatsTopic,
    target: SeekTarget,
    limit: number,
  ): Promise<ConsumedRecord[]> {
    const filter =
      target.to === 'offset'
        ? this.#names.partitionFilter(topic, target.partition, meta.entity)
        : this.#names.topicFilter(topic);
    const prefix = this.#names.topicFilter(topic).slice(0, -1);
    const cursor = await NatsCursor.open(
      this.#cursorContext(),
      meta.stream,
      filter,
      target.to === 'time'
        ? { time: target.time }
        : { seq: await positionOf(this.#cursorContext(), this.#names, meta, target) },
    );
    const out: ConsumedRecord[] = [];
    try {
      for (;;) {
        const want = Math.min(limit - out.length, 256);
        const batch = await cursor.pull(want);
        const oldest = meta.retentionMs === undefined ? 0 : Date.now() - meta.retentionMs;
        for (const m of batch) {
          if (m.timestamp < oldest) continue;
          const partition = Number(m.subject.slice(prefix.length).split('.', 1)[0]);
          out.push(decodeRecord(topic, partition, m));
        }
        if (batch.length < want || out.length >= limit) return out;
      }
    } finally {
      cursor.close();
    }
  }

  /** Purges tombstones older than `tombstoneRetentionMs` now (it also runs every `sweepIntervalMs`). */
  async sweep(): Promise<SweepResult> {
    this.#ensureOpen();
    return sweepTombstones(
      this.#cursorContext(),
      this.#names,
      this.#topics.entityTopics(),
      this.options.tombstoneRetentionMs,
      Date.now(),
    );
  }

  async #sweepQuietly(): Promise<void> {
    if (this.#closed || this.#sweeping) return;
    this.#sweeping = true;
    try {
      await this.sweep();
    } catch {
      // The next sweep tries again.
    } finally {
      this.#sweeping = false;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    clearInterval(this.#sweeper);
    const subscriptions = [...this.#subscriptions];
    // Leave the groups first (their `left` markers need the connection), then refuse everything.
    await Promise.all(subscriptions.map((s) => s.close().catch(() => undefined)));
    this.#closed = true;
    await this.#nc.close().catch(() => undefined);
  }

  /**
   * Drops the connection without leaving consumer groups, as if the process had been killed: members stop
   * heartbeating and time out after `sessionTimeoutMs`. For fault tests; use `close()` otherwise.
   */
  async abandon(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweeper);
    for (const s of [...this.#subscriptions]) s.abandon();
    await this.#nc.close().catch(() => undefined);
  }

  #pullTimeoutMs(): number {
    return Math.min(this.options.requestTimeoutMs, MAX_PULL_TIMEOUT_MS);
  }

  #cursorContext() {
    return { nc: this.#nc, jsm: this.#jsm, pullTimeoutMs: this.#pullTimeoutMs() };
  }

  #ensureOpen(): void {
    if (this.#closed) throw new ClosedError(`${NATS_NAME} transport (${this.options.servers.join(',')})`);
  }
}

/** Connects a NATS JetStream transport (`{ url: 'nats://127.0.0.1:4222' }`). */
export function createNatsTransport(options: NatsTransportOptions): Promise<NatsTransport> {
  return NatsTransport.connect(options);
}
