/**
 * How Sluice topics and groups map to Kafka names under a namespace: `<namespace>.<name>`, or the name as it
 * is without one. Sluice topic names (`[A-Za-z0-9._-]`, up to 200 characters) are valid Kafka topic names.
 */
export interface KafkaNames {
  topic(name: string): string;
  group(name: string): string;
  /** The Sluice topic name of a Kafka topic of this namespace. */
  logicalTopic(kafkaName: string): string;
  /** The prefix every Kafka name of this namespace starts with (`''` without a namespace). */
  readonly prefix: string;
}

export function kafkaNames(namespace: string | undefined): KafkaNames {
  const prefix = namespace === undefined ? '' : `${namespace}.`;
  return {
    prefix,
    topic: (name) => `${prefix}${name}`,
    group: (name) => `${prefix}${name}`,
    logicalTopic: (kafkaName) => (kafkaName.startsWith(prefix) ? kafkaName.slice(prefix.length) : kafkaName),
  };
}
