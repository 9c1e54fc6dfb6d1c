import { SluiceError, TransportError } from '@sluice/core';
import {
  invalidOffsetError as invalidOffset,
  parseOffset as parseOffsetOf,
  topicMismatchError as topicMismatch,
  unknownTopicError as unknownTopic,
} from '@sluice/core/adapter';
import { detailOf } from './kafka-js-client.js';

/** The transport's name in messages and `Transport.name`. */
export const KAFKA_NAME = 'kafka';

/** Publishing to, subscribing to or reading a topic that was never ensured. */
export const unknownTopicError = (topic: string): TransportError => unknownTopic(KAFKA_NAME, topic);

/** `ensureTopic` found the topic with another kind or partition count. */
export const topicMismatchError = (
  topic: string,
  existing: { kind: string; partitions: number },
  wanted: { kind: string; partitions: number },
): TransportError => topicMismatch(KAFKA_NAME, topic, existing, wanted);

/** An offset string that is not a Kafka offset. */
export const invalidOffsetError = (offset: unknown): TransportError => invalidOffset(KAFKA_NAME, offset);

/** Parses an offset string (a Kafka offset). */
export const parseOffset = (offset: string): number => parseOffsetOf(KAFKA_NAME, offset);

/** Wraps a client failure in a retryable {@link TransportError} (a `SluiceError` passes through). */
export function kafkaError(action: string, cause: unknown): SluiceError {
  if (cause instanceof SluiceError) return cause;
  const detail = detailOf(cause);
  return new TransportError(
    'SLUICE_BROKER_UNAVAILABLE',
    `${KAFKA_NAME}: ${action} failed (${detail}); the broker may be restarting or unreachable: retry`,
    { cause },
  );
}

/**
 * The producer's answer gave no broker offset for some records of a publish: they may not be stored (the loss
 * librdkafka's "implicit acknowledgement" once caused), so nothing of the publish counts as acknowledged.
 */
export function unconfirmedError(unconfirmed: number, total: number): TransportError {
  return new TransportError(
    'SLUICE_PUBLISH_UNCONFIRMED',
    `${KAFKA_NAME}: ${unconfirmed} of ${total} records were answered without a broker offset, which does not prove they were stored; nothing of this publish is taken as stored: publish it again`,
  );
}
