import { SluiceError, TransportError } from '@sluice/core';

/** The transport's name in messages and `Transport.name`. */
export const NATS_NAME = 'nats-jetstream';

/** Publishing to, subscribing to or reading a topic that was never ensured. */
export function unknownTopicError(topic: string): TransportError {
  return new TransportError(
    'SLUICE_UNKNOWN_TOPIC',
    `${NATS_NAME}: topic ${JSON.stringify(topic)} does not exist; call transport.ensureTopic(spec) before using it`,
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
    `${NATS_NAME}: topic ${JSON.stringify(topic)} exists as ${existing.kind} with ${existing.partitions} partition(s), ` +
      `but ${wanted.kind} with ${wanted.partitions} was asked for; a topic never changes kind or partition count: ` +
      'declare a new topic (e.g. with a version suffix) and move producers and consumers to it',
    { retryable: false },
  );
}

/** An offset string that is not a stream sequence. */
export function invalidOffsetError(offset: unknown): TransportError {
  return new TransportError(
    'SLUICE_INVALID_OFFSET',
    `${NATS_NAME}: offset ${JSON.stringify(offset)} is not a non-negative decimal integer; pass an offset from a PublishAck or ConsumedRecord`,
    { retryable: false },
  );
}

/** Parses an offset string (a JetStream stream sequence). */
export function parseOffset(offset: string): number {
  if (typeof offset !== 'string' || !/^\d{1,16}$/.test(offset)) throw invalidOffsetError(offset);
  const n = Number(offset);
  if (!Number.isSafeInteger(n)) throw invalidOffsetError(offset);
  return n;
}

/** Wraps a NATS failure in a retryable {@link TransportError} (a `SluiceError` passes through). */
export function natsError(action: string, cause: unknown): SluiceError {
  if (cause instanceof SluiceError) return cause;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new TransportError(
    'SLUICE_TRANSPORT_UNAVAILABLE',
    `${NATS_NAME}: ${action} failed (${detail}); the server may be restarting or electing a leader: retry`,
    { cause, retryable: true },
  );
}
