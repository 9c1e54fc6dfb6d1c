import { SluiceError, TransportError } from '@sluice/core';

/** The transport's name in messages and `Transport.name`. */
export const KAFKA_NAME = 'kafka';

/** Publishing to, subscribing to or reading a topic that was never ensured. */
export function unknownTopicError(topic: string): TransportError {
  return new TransportError(
    'SLUICE_UNKNOWN_TOPIC',
    `${KAFKA_NAME}: topic ${JSON.stringify(topic)} does not exist; call transport.ensureTopic(spec) before using it`,
    { retryable: false },
  );
}

/** `ensureTopic` found the topic with another kind or partition count. */
export function topicMismatchError(
  topic: string,
  existing: { kind: string; partitions: number },
  wanted: { kind: string; partitions: number },
): TransportError {
  return new TransportError(
    'SLUICE_TOPIC_MISMATCH',
    `${KAFKA_NAME}: topic ${JSON.stringify(topic)} exists as ${existing.kind} with ${existing.partitions} partition(s), ` +
      `but ${wanted.kind} with ${wanted.partitions} was asked for; a topic never changes kind or partition count: ` +
      'declare a new topic (e.g. with a version suffix) and move producers and consumers to it',
    { retryable: false },
  );
}

/** An offset string that is not a Kafka offset. */
export function invalidOffsetError(offset: unknown): TransportError {
  return new TransportError(
    'SLUICE_INVALID_OFFSET',
    `${KAFKA_NAME}: offset ${JSON.stringify(offset)} is not a non-negative decimal integer; pass an offset from a PublishAck or ConsumedRecord`,
    { retryable: false },
  );
}

/** Parses an offset string (a Kafka offset). */
export function parseOffset(offset: string): number {
  if (typeof offset !== 'string' || !/^\d{1,16}$/.test(offset)) throw invalidOffsetError(offset);
  const n = Number(offset);
  if (!Number.isSafeInteger(n)) throw invalidOffsetError(offset);
  return n;
}

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
