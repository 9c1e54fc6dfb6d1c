import { ErrorReply } from '@redis/client';
import { SluiceError, TransportError } from '@sluice/core';
import {
  invalidOffsetError as invalidOffset,
  topicMismatchError as topicMismatch,
  unknownTopicError as unknownTopic,
} from '@sluice/core/adapter';

/** The transport's name in messages. */
export const REDIS_NAME = 'redis-streams';

/** Publishing to, subscribing to or reading a topic that was never ensured. */
export const unknownTopicError = (topic: string): TransportError => unknownTopic(REDIS_NAME, topic);

/** `ensureTopic` found the topic with another kind or partition count. */
export const topicMismatchError = (
  topic: string,
  existing: { kind: string; partitions: number },
  wanted: { kind: string; partitions: number },
): TransportError => topicMismatch(REDIS_NAME, topic, existing, wanted);

/** An offset string that is not a decimal integer this transport could have produced. */
export const invalidOffsetError = (offset: unknown): TransportError => invalidOffset(REDIS_NAME, offset);

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
