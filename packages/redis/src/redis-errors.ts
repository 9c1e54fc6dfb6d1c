import { ErrorReply } from '@redis/client';
import { SluiceError, TransportError } from '@sluice/core';
import {
  hostOf,
  invalidOffsetError as invalidOffset,
  maskUrl,
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

/** Reply errors of a server that is loading its data or failing over: it cannot serve now, soon will. */
const UNAVAILABLE_REPLY = /^(LOADING|TRYAGAIN|MASTERDOWN|READONLY|NOREPLICAS|CLUSTERDOWN)\b/;
/** Reply errors of a server that is running a long script or is out of memory. */
const BUSY_REPLY = /^(BUSY|OOM)\b/;
/** Socket errors that say nothing accepts connections at the address. */
const NOT_LISTENING = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN']);

/** The socket error code (`ECONNREFUSED`, …) of `error` or the errors it wraps. */
function socketCode(error: unknown, depth = 0): string | undefined {
  if (depth > 4 || error === null || typeof error !== 'object') return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
  // AggregateError's errors, node's cause, @redis/client's ReconnectStrategyError's originalError/socketError.
  const e = error as { errors?: unknown[]; cause?: unknown; originalError?: unknown; socketError?: unknown };
  for (const inner of [...(e.errors ?? []), e.cause, e.originalError, e.socketError]) {
    const found = socketCode(inner, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Classifies a Redis client failure, the one place this package does it:
 * - a lost or refused connection, or a server loading its data or failing over (`LOADING`, `MASTERDOWN`,
 *   `READONLY`, …): `SLUICE_BROKER_UNAVAILABLE` (retryable; the client reconnects by itself);
 * - a server running a long script (`BUSY`) or out of memory (`OOM`): `SLUICE_BUSY` (retryable);
 * - any other reply error: `SLUICE_BROKER_ERROR`.
 */
export function brokerError(action: string, cause: unknown): SluiceError {
  if (cause instanceof SluiceError) return cause;
  const detail = cause instanceof Error ? cause.message : String(cause);
  if (cause instanceof ErrorReply) {
    if (UNAVAILABLE_REPLY.test(detail)) {
      return new TransportError(
        'SLUICE_BROKER_UNAVAILABLE',
        `${REDIS_NAME}: ${action}: the server is loading its data or failing over (${detail}); retry`,
        { cause },
      );
    }
    if (BUSY_REPLY.test(detail)) {
      return new TransportError('SLUICE_BUSY', `${REDIS_NAME}: ${action}: ${detail}; retry`, { cause });
    }
    return new TransportError('SLUICE_BROKER_ERROR', `${REDIS_NAME}: ${action} failed: ${detail}`, { cause });
  }
  return new TransportError(
    'SLUICE_BROKER_UNAVAILABLE',
    `${REDIS_NAME}: ${action}: the Redis server cannot be reached (${detail}); the client reconnects by itself, retry`,
    { cause },
  );
}

/**
 * The first connection failed. Nothing listening at the address is said as such (with the URL's host and port
 * only, never its password); anything else is classified by {@link brokerError}.
 */
export function connectError(url: string, cause: unknown): SluiceError {
  const code = socketCode(cause);
  if (code !== undefined && NOT_LISTENING.has(code)) {
    return new TransportError(
      'SLUICE_BROKER_UNAVAILABLE',
      `${REDIS_NAME}: no Redis server answers at ${hostOf(url, 6379)} (${code}): start one (bash scripts/services redis) or pass the right URL`,
      { cause },
    );
  }
  return brokerError(`connecting to ${maskUrl(url)}`, cause);
}
