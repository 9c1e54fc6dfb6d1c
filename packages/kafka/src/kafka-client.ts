import { createRequire } from 'node:module';
import type * as RdKafka from '@confluentinc/kafka-javascript';

const require = createRequire(import.meta.url);

/** The node-rdkafka style API of `@confluentinc/kafka-javascript` (a CommonJS module). */
export const rdkafka = require('@confluentinc/kafka-javascript') as typeof RdKafka;

export type { RdKafka };

/** Turns a node-style callback call into a promise. */
export function promised<T>(call: (done: (err: unknown, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    call((err, value) => {
      if (err !== null && err !== undefined) reject(err);
      else resolve(value as T);
    });
  });
}

/** `KafkaConsumer` with the two methods the library has but its types omit. */
export type Consumer = RdKafka.KafkaConsumer & {
  setDefaultIsTimeoutOnlyForFirstMessage(only: boolean): void;
  commitCb(offsets: RdKafka.TopicPartitionOffset[], cb: (err: unknown) => void): void;
};

/** A new librdkafka consumer. */
export function newConsumer(
  config: Record<string, string | number | boolean>,
  topicConfig: Record<string, string | number | boolean> = {},
): Consumer {
  return new rdkafka.KafkaConsumer(
    config as RdKafka.ConsumerGlobalConfig,
    topicConfig as RdKafka.ConsumerTopicConfig,
  ) as Consumer;
}
