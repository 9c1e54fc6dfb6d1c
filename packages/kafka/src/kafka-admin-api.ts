import type { TopicConfigs } from './kafka-describe-configs.js';

/** Where to list a partition's offset: the first, the next to be written, or the first at or after a time. */
export type OffsetQuery = 'earliest' | 'latest' | { readonly time: number };

/**
 * The admin requests the transport needs, as promises. Implementers own one client's connections and map the
 * broker's answers to these shapes; they do not wrap errors (the transport does, with `kafkaError`).
 */
export interface KafkaAdminApi {
  /** Creates a topic and waits until every partition has a leader; resolves false if it already existed. */
  createTopic(name: string, partitions: number, config: Record<string, string>): Promise<boolean>;
  /** Waits (up to the request timeout) until the metadata shows a leader for every partition of a new topic. */
  leadersOf(name: string, partitions: number): Promise<void>;
  /** The partition count of a topic, or `undefined` if it does not exist. */
  partitions(name: string): Promise<number | undefined>;
  /** A topic's configuration (DescribeConfigs), or `undefined` if it does not exist. */
  configs(name: string): Promise<TopicConfigs | undefined>;
  /**
   * One offset per partition of `topic` (ListOffsets); for a time with no record at or after it, the end.
   * Retried for a while on the errors of a topic whose partition leaders are still being elected.
   */
  offsets(topic: string, partitions: readonly number[], query: OffsetQuery): Promise<Map<number, number>>;
  /** The topic names that start with `prefix`. */
  topicsStartingWith(prefix: string): Promise<string[]>;
  /** Deletes a topic; an unknown topic is no error. */
  deleteTopic(name: string): Promise<void>;
  /** The consumer group ids that start with `prefix`. */
  groupsStartingWith(prefix: string): Promise<string[]>;
  deleteGroups(groups: readonly string[]): Promise<void>;
  close(): Promise<void>;
}
