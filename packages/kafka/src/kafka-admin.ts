import type { KafkaAdminApi, OffsetQuery } from './kafka-admin-api.js';
import { promised, type RdKafka, rdkafka } from './kafka-client.js';
import { describeTopicConfigs, type TopicConfigs } from './kafka-describe-configs.js';
import type { ResolvedKafkaOptions } from './kafka-options.js';

/**
 * Broker errors of a partition whose leader is moving or not yet known: UNKNOWN_TOPIC_OR_PARTITION (3),
 * LEADER_NOT_AVAILABLE (5), NOT_LEADER_OR_FOLLOWER (6), REQUEST_TIMED_OUT (7), and librdkafka's transport
 * (-195) and timeout (-185) errors.
 */
const TRANSIENT = new Set([3, 5, 6, 7, -195, -185]);

/** The admin requests the transport needs, as promises, over one `AdminClient`. */
export class KafkaAdmin implements KafkaAdminApi {
  readonly #client: RdKafka.IAdminClient;
  readonly #options: ResolvedKafkaOptions;

  constructor(options: ResolvedKafkaOptions) {
    this.#options = options;
    this.#client = rdkafka.AdminClient.create({
      'bootstrap.servers': options.brokers.join(','),
      'client.id': `${options.clientId}-admin`,
      log_level: 0,
    });
  }

  /** Creates a topic; resolves false if it already existed. */
  async createTopic(name: string, partitions: number, config: Record<string, string>): Promise<boolean> {
    try {
      await promised<void>((done) =>
        this.#client.createTopic(
          {
            topic: name,
            num_partitions: partitions,
            replication_factor: this.#options.replicationFactor,
            config: config as NonNullable<RdKafka.NewTopic['config']>,
          },
          this.#options.requestTimeoutMs,
          done,
        ),
      );
      await this.leadersOf(name, partitions);
      return true;
    } catch (error) {
      if ((error as { code?: unknown }).code === 36) return false;
      throw error;
    }
  }

  /** Waits (up to the request timeout) until the metadata shows a leader for every partition of a new topic. */
  async leadersOf(name: string, partitions: number): Promise<void> {
    const deadline = Date.now() + this.#options.requestTimeoutMs;
    while (Date.now() < deadline) {
      const [description] = await promised<RdKafka.TopicDescription[]>((done) =>
        this.#client.describeTopics([name], { timeout: this.#options.requestTimeoutMs }, done),
      ).catch(() => [] as RdKafka.TopicDescription[]);
      const ready = description?.partitions.filter((p) => p.leader !== null) ?? [];
      if (description !== undefined && description.error === undefined && ready.length === partitions) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** The partition count of a topic, or `undefined` if it does not exist. */
  async partitions(name: string): Promise<number | undefined> {
    try {
      const [description] = await promised<RdKafka.TopicDescription[]>((done) =>
        this.#client.describeTopics([name], { timeout: this.#options.requestTimeoutMs }, done),
      );
      if (description === undefined || description.error !== undefined) return undefined;
      return description.partitions.length;
    } catch (error) {
      if ((error as { code?: unknown }).code === 3) return undefined;
      throw error;
    }
  }

  /** A topic's configuration (DescribeConfigs), or `undefined` if it does not exist. */
  async configs(name: string): Promise<TopicConfigs | undefined> {
    let last: unknown;
    for (const broker of this.#options.brokers) {
      try {
        return await describeTopicConfigs(broker, name, this.#options.requestTimeoutMs);
      } catch (error) {
        last = error;
      }
    }
    throw last;
  }

  /**
   * One offset per partition of `topic` (ListOffsets). Retried for a while on the errors of a topic whose
   * partition leaders are still being elected or propagated (right after it was created).
   */
  async offsets(
    topic: string,
    partitions: readonly number[],
    query: OffsetQuery,
  ): Promise<Map<number, number>> {
    const deadline = Date.now() + this.#options.requestTimeoutMs;
    for (let delay = 20; ; delay = Math.min(delay * 2, 500)) {
      try {
        return await this.#offsets(topic, partitions, query);
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (!TRANSIENT.has(code as number) || Date.now() + delay > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  async #offsets(
    topic: string,
    partitions: readonly number[],
    query: OffsetQuery,
  ): Promise<Map<number, number>> {
    const spec =
      query === 'earliest'
        ? rdkafka.OffsetSpec.EARLIEST
        : query === 'latest'
          ? rdkafka.OffsetSpec.LATEST
          : new rdkafka.OffsetSpec(query.time);
    const results = await promised<RdKafka.ListOffsetsResult[]>((done) =>
      this.#client.listOffsets(
        partitions.map((partition) => ({ topic, partition, offset: spec })),
        { timeout: this.#options.requestTimeoutMs },
        done,
      ),
    );
    const out = new Map<number, number>();
    for (const r of results) {
      if (r.error !== undefined) throw r.error;
      out.set(r.partition, r.offset);
    }
    if (typeof query === 'object') {
      // No record at or after the time: the partition's end.
      const missing = [...out].filter(([, offset]) => offset < 0).map(([p]) => p);
      if (missing.length > 0)
        for (const [p, o] of await this.#offsets(topic, missing, 'latest')) out.set(p, o);
    }
    return out;
  }

  /** The topic names that start with `prefix`. */
  async topicsStartingWith(prefix: string): Promise<string[]> {
    const topics = await promised<string[]>((done) =>
      this.#client.listTopics({ timeout: this.#options.requestTimeoutMs }, done),
    );
    return topics.filter((t) => t.startsWith(prefix));
  }

  async deleteTopic(name: string): Promise<void> {
    await promised<void>((done) =>
      this.#client.deleteTopic(name, this.#options.requestTimeoutMs, done),
    ).catch((error) => {
      if ((error as { code?: unknown }).code !== 3) throw error;
    });
  }

  /** The consumer group ids that start with `prefix`. */
  async groupsStartingWith(prefix: string): Promise<string[]> {
    const result = await promised<{ groups: RdKafka.GroupOverview[] }>((done) =>
      this.#client.listGroups({ timeout: this.#options.requestTimeoutMs }, done),
    );
    return result.groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix));
  }

  async deleteGroups(groups: readonly string[]): Promise<void> {
    if (groups.length === 0) return;
    await promised<unknown>((done) =>
      this.#client.deleteGroups([...groups], { timeout: this.#options.requestTimeoutMs }, done),
    );
  }

  async close(): Promise<void> {
    this.#client.disconnect();
  }
}
