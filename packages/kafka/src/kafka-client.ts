import { createRequire } from 'node:module';
// An optional peer dependency (a native addon): only `client: 'native'` loads this module. Its types exist only
// where it is installed.
// biome-ignore lint/suspicious/noTsIgnore: @ts-expect-error would fail where the package is installed
// @ts-ignore
import type * as RdKafka from '@confluentinc/kafka-javascript';
import { SluiceError } from '@sluice/core';

const require = createRequire(import.meta.url);

/** The package `client: 'native'` needs. */
export const NATIVE_PACKAGE = '@confluentinc/kafka-javascript';

/** Loads {@link NATIVE_PACKAGE} with `load`; a failure is a `SluiceError` that says what to install. */
export function loadNative(load: () => unknown = () => require(NATIVE_PACKAGE)): typeof RdKafka {
  try {
    return load() as typeof RdKafka;
  } catch (cause) {
    throw new SluiceError(
      'SLUICE_ADAPTER_MISSING',
      `kafka: client 'native' needs the ${NATIVE_PACKAGE} package (librdkafka, a native addon), which is not installed or did not load: npm install ${NATIVE_PACKAGE}@1.10.1, or use client 'javascript' (@platformatic/kafka, no native build)`,
      { cause },
    );
  }
}

/** The node-rdkafka style API of `@confluentinc/kafka-javascript` (a CommonJS module). */
export const rdkafka = loadNative();

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
