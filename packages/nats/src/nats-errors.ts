import { SluiceError, TransportError } from '@sluice/core';
import {
  hostOf,
  invalidOffsetError as invalidOffset,
  maskUrl,
  parseOffset as parseOffsetOf,
  topicMismatchError as topicMismatch,
  unknownTopicError as unknownTopic,
} from '@sluice/core/adapter';

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

/** Socket errors that say nothing accepts connections at the address. */
const NOT_LISTENING = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN']);

/** The socket error code (`ECONNREFUSED`, …) of `error` or its causes. */
function socketCode(error: unknown, depth = 0): string | undefined {
  if (depth > 4 || error === null || typeof error !== 'object') return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
  return socketCode((error as { cause?: unknown }).cause, depth + 1);
}

/**
 * Classifies a NATS client failure, the one place this package does it: a `SluiceError` passes through;
 * anything else means the server is unreachable, restarting or electing a leader:
 * `SLUICE_BROKER_UNAVAILABLE` (retryable).
 */
export function natsError(action: string, cause: unknown): SluiceError {
  if (cause instanceof SluiceError) return cause;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new TransportError(
    'SLUICE_BROKER_UNAVAILABLE',
    `${NATS_NAME}: ${action} failed (${detail}); the server may be restarting or electing a leader: retry`,
    { cause },
  );
}

/**
 * The first connection failed. Nothing listening at the addresses is said as such (host and port only, never
 * a password); anything else is classified by {@link natsError}.
 */
export function connectError(servers: readonly string[], cause: unknown): SluiceError {
  const code = socketCode(cause);
  if (code !== undefined && NOT_LISTENING.has(code)) {
    const where = servers.map((s) => hostOf(s.includes('://') ? s : `nats://${s}`, 4222)).join(', ');
    return new TransportError(
      'SLUICE_BROKER_UNAVAILABLE',
      `${NATS_NAME}: no NATS server answers at ${where} (${code}): start one (bash scripts/services nats) or pass the right URL`,
      { cause },
    );
  }
  return natsError(`connecting to ${servers.map(maskUrl).join(',')}`, cause);
}
