import { type ConsumerPipelineConfig, handle, type PartitionLag, type Transport } from '@sluice/core';

/** A consumer pipeline's group lag in one topic its handlers read. */
export interface TopicLag {
  readonly topic: string;
  /** Records left in every partition together. */
  readonly total: number;
  readonly partitions: readonly PartitionLag[];
}

/** How far a consumer pipeline's group is behind, per topic of its handlers, as `/api/status` shows it. */
export interface ConsumerLag {
  readonly group: string;
  /** Records left in every topic together. */
  readonly total: number;
  readonly topics: readonly TopicLag[];
  /** When it was read (ISO 8601). */
  readonly at: string;
}

/**
 * The topics a consumer pipeline reads (its handlers', then its upcasters' source versions'), in the order first
 * named.
 */
export function handlerTopics(pipeline: ConsumerPipelineConfig): string[] {
  const handlers = typeof pipeline.handlers === 'function' ? pipeline.handlers(handle) : pipeline.handlers;
  const upcast = (pipeline.consumer?.upcasters ?? []).map((u) => u.from.topic.name);
  return [...new Set([...handlers.map((h) => h.contract.topic.name), ...upcast])];
}

/**
 * Reads the group's lag in each topic from the transport. Rejects when any topic's lag cannot be read
 * (the caller leaves the whole answer out); a topic the consumer has not created yet is answered with no
 * partitions rather than an error, so a consumer still starting does not look broken.
 */
export async function readConsumerLag(
  transport: Transport,
  group: string,
  topics: readonly string[],
): Promise<ConsumerLag> {
  const read = await Promise.all(
    topics.map(async (topic): Promise<TopicLag> => {
      const partitions = await transport.lag(group, topic).catch((error: unknown) => {
        if ((error as { code?: unknown }).code === 'SLUICE_UNKNOWN_TOPIC') return [];
        throw error;
      });
      return { topic, total: partitions.reduce((n, p) => n + p.lag, 0), partitions };
    }),
  );
  return {
    group,
    total: read.reduce((n, t) => n + t.total, 0),
    topics: read,
    at: new Date().toISOString(),
  };
}
