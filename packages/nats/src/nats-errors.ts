import {
  invalidOffsetError as invalidOffset,
  parseOffset as parseOffsetOf,
  SluiceError,
  TransportError,
  topicMismatchError as topicMismatch,
  unknownTopicError as unknownTopic,
} from '@sluice/core';

/** The transport's name in messages and `Transport.name`. */
export const NATS_NAME = 'nats-jetstream';

/** Publishing to, subscribing to or reading a topic that was never ensured. */
export const unknownTopicError = (topic: string): TransportError => unknownTopic(NATS_NAME, topic);

/** `ensureTopic` found the topic with another kind or partition count. */
export const topicMismatchError = (
  topic: string,
  existing: { kind: string; partitions: number },
  wanted: { kind: string; partitions: number },
): TransportError => topicMismatch(NATS_NAME, topic, existing, wanted);

/** An offset string that is not a stream sequence. */
export const invalidOffsetError = (offset: unknown): TransportError => invalidOffset(NATS_NAME, offset);

/** Parses an offset string (a JetStream stream sequence). */
export const parseOffset = (offset: string): number => parseOffsetOf(NATS_NAME, offset);

/** Wraps a NATS failure in a retryable {@link TransportError} (a `SluiceError` passes through). */
export function natsError(action: string, cause: unknown): SluiceError {
  if (cause instanceof SluiceError) return cause;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new TransportError(
    'SLUICE_BROKER_UNAVAILABLE',
    `${NATS_NAME}: ${action} failed (${detail}); the server may be restarting or electing a leader: retry`,
    { cause },
  );
}
