import { Admin, Consumer } from '@platformatic/kafka';
import type { KafkaAdminApi, OffsetQuery } from './kafka-admin-api.js';
import { describeTopicConfigs, type TopicConfigs } from './kafka-describe-configs.js';
import { apiCodeOf, clientOptions } from './kafka-js-client.js';
import type { ResolvedKafkaOptions } from './kafka-options.js';

/**
 * Broker errors of a partition whose leader is moving or not yet known: UNKNOWN_TOPIC_OR_PARTITION (3),
 * LEADER_NOT_AVAILABLE (5), NOT_LEADER_OR_FOLLOWER (6), REQUEST_TIMED_OUT (7).
 */
const TRANSIENT = new Set([3, 5, 6, 7]);
const TOPIC_ALREADY_EXISTS = 36;
const EARLIEST = -2n;
const LATEST = -1n;

/**
 * {@link KafkaAdminApi} over one `@platformatic/kafka` `Admin`, plus a `Consumer` that never joins a group for
 * ListOffsets (the 1.22 `Admin` has no ListOffsets). DescribeConfigs is sent by `describeTopicConfigs`.
 */
export class KafkaJsAdmin implements KafkaAdminApi {
  readonly #client: Admin;
  readonly #lister: Consumer;
  readonly #options: ResolvedKafkaOptions;

  constructor(options: ResolvedKafkaOptions) {
    this.#options = options;
    this.#client = new Admin(clientOptions(options, '-admin'));
    this.#lister = new Consumer({
      ...clientOptions(options, '-admin'),
      groupId: `${options.clientId}-admin`,
    });
  }

  async createTopic(name: string, partitions: number, config: Record<string, string>): Promise<boolean> {
    try {
      await this.#client.createTopics({
        topics: [name],
        partitions,
        replicas: this.#options.replicationFactor,
        configs: Object.entries(config).map(([key, value]) => ({ name: key, value })),
      });
    } catch (error) {
      if (apiCodeOf(error) === TOPIC_ALREADY_EXISTS) return false;
      throw error;
    }
    await this.leadersOf(name, partitions);
    return true;
  }

  async leadersOf(name: string, partitions: number): Promise<void> {
    const deadline = Date.now() + this.#options.requestTimeoutMs;
    while (Date.now() < deadline) {
      const topic = await this.#client
        .metadata({ topics: [name], forceUpdate: true })
        .then((m) => m.topics.get(name))
        .catch(() => undefined);
      const ready = topic?.partitions.filter((p) => p !== undefined && p.leader >= 0) ?? [];
      if (ready.length === partitions) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async partitions(name: string): Promise<number | undefined> {
    try {
      const metadata = await this.#client.metadata({ topics: [name], forceUpdate: true });
      return metadata.topics.get(name)?.partitionsCount;
    } catch (error) {
      if (apiCodeOf(error) === 3) return undefined;
      throw error;
    }
  }

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
        if (!TRANSIENT.has(apiCodeOf(error) ?? 0) || Date.now() + delay > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  async #offsets(
    topic: string,
    partitions: readonly number[],
    query: OffsetQuery,
  ): Promise<Map<number, number>> {
    const timestamp = query === 'earliest' ? EARLIEST : query === 'latest' ? LATEST : BigInt(query.time);
    const listed = await this.#lister.listOffsets({
      topics: [topic],
      partitions: { [topic]: [...partitions] },
      timestamp,
    });
    const all = listed.get(topic) ?? [];
    const out = new Map<number, number>();
    for (const p of partitions) out.set(p, all[p] === undefined ? -1 : Number(all[p]));
    if (typeof query === 'object') {
      // No record at or after the time: the partition's end.
      const missing = [...out].filter(([, offset]) => offset < 0).map(([p]) => p);
      if (missing.length > 0)
        for (const [p, o] of await this.#offsets(topic, missing, 'latest')) out.set(p, o);
    }
    return out;
  }

  async topicsStartingWith(prefix: string): Promise<string[]> {
    return (await this.#client.listTopics({})).filter((t) => t.startsWith(prefix));
  }

  async deleteTopic(name: string): Promise<void> {
    await this.#client.deleteTopics({ topics: [name] }).catch((error) => {
      if (apiCodeOf(error) !== 3) throw error;
    });
  }

  async groupsStartingWith(prefix: string): Promise<string[]> {
    return [...(await this.#client.listGroups({})).keys()].filter((g) => g.startsWith(prefix));
  }

  async deleteGroups(groups: readonly string[]): Promise<void> {
    if (groups.length > 0) await this.#client.deleteGroups({ groups: [...groups] });
  }

  async close(): Promise<void> {
    await Promise.all([this.#client.close(), this.#lister.close()]).catch(() => undefined);
  }
}
