import {
  invalidOffsetError as invalidOffset,
  parseOffset as parseOffsetOf,
  SluiceError,
  TransportError,
  topicMismatchError as topicMismatch,
  unknownTopicError as unknownTopic,
} from '@sluice/core';

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
  const message = (cause as { message?: unknown } | null)?.message;
  const detail = typeof message === 'string' ? message : String(cause);
  return new TransportError(
    'SLUICE_TRANSPORT_UNAVAILABLE',
    `${KAFKA_NAME}: ${action} failed (${detail}); the broker may be restarting or unreachable: retry`,
    { cause, retryable: true },
  );
}
