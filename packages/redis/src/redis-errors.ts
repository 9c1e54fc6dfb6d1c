import { ErrorReply } from '@redis/client';
import { SluiceError, TransportError } from '@sluice/core';

/** The transport's name in messages. */
export const REDIS_NAME = 'redis-streams';

/** Publishing to, subscribing to or reading a topic that was never ensured. */
export function unknownTopicError(topic: string): TransportError {
  return new TransportError(
    'SLUICE_UNKNOWN_TOPIC',
    `${REDIS_NAME}: topic ${JSON.stringify(topic)} does not exist; call transport.ensureTopic(spec) before using it`,
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
    `${REDIS_NAME}: topic ${JSON.stringify(topic)} exists as ${existing.kind} with ${existing.partitions} partition(s), ` +
      `but ${wanted.kind} with ${wanted.partitions} was asked for; a topic never changes kind or partition count: ` +
      'declare a new topic (e.g. with a version suffix) and move producers and consumers to it',
    { retryable: false },
  );
}

/** An offset string that is not a decimal integer this transport could have produced. */
export function invalidOffsetError(offset: unknown): TransportError {
  return new TransportError(
    'SLUICE_INVALID_OFFSET',
    `${REDIS_NAME}: offset ${JSON.stringify(offset)} is not a non-negative decimal integer; pass an offset from a PublishAck or ConsumedRecord`,
    { retryable: false },
  );
}

/** Reply errors that say the server is busy, loading or failing over: trying again later may succeed. */
const TRANSIENT_REPLY = /^(LOADING|BUSY|TRYAGAIN|MASTERDOWN|READONLY|OOM|NOREPLICAS|CLUSTERDOWN)\b/;

/**
 * Wraps a Redis client failure in a {@link TransportError}: a lost or refused connection is
 * `SLUICE_BROKER_UNAVAILABLE` (retryable; the client reconnects by itself), a transient reply (`LOADING`,
 * `BUSY`, `OOM`, …) is `SLUICE_BROKER_BUSY` (retryable), any other reply error `SLUICE_BROKER_FAILED`.
 */
export function brokerError(action: string, cause: unknown): SluiceError {
  if (cause instanceof SluiceError) return cause;
  const detail = cause instanceof Error ? cause.message : String(cause);
  if (cause instanceof ErrorReply) {
    if (TRANSIENT_REPLY.test(detail)) {
      return new TransportError('SLUICE_BROKER_BUSY', `${REDIS_NAME}: ${action}: ${detail}; retry`, {
        cause,
        retryable: true,
      });
    }
    return new TransportError('SLUICE_BROKER_FAILED', `${REDIS_NAME}: ${action} failed: ${detail}`, {
      cause,
      retryable: false,
    });
  }
  return new TransportError(
    'SLUICE_BROKER_UNAVAILABLE',
    `${REDIS_NAME}: ${action}: the Redis server cannot be reached (${detail}); the client reconnects by itself, retry`,
    { cause, retryable: true },
  );
}
