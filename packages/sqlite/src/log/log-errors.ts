import { SluiceError, TransportError } from '@sluice/core';
import {
  invalidOffsetError as invalidOffset,
  parseOffset as parseOffsetOf,
  topicMismatchError as topicMismatch,
  unknownTopicError as unknownTopic,
} from '@sluice/core/adapter';

/** The transport's name in messages. */
export const LOG_NAME = 'embedded-log';

/** Publishing to, subscribing to or reading a topic that was never ensured. */
export const unknownTopicError = (topic: string): TransportError => unknownTopic(LOG_NAME, topic);

/** `ensureTopic` found the topic with another kind or partition count. */
export const topicMismatchError = (
  topic: string,
  existing: { kind: string; partitions: number },
  wanted: { kind: string; partitions: number },
): TransportError => topicMismatch(LOG_NAME, topic, existing, wanted);

/** An offset string that is not a non-negative decimal integer. */
export const invalidOffsetError = (offset: unknown): TransportError => invalidOffset(LOG_NAME, offset);

/** Parses an offset string. */
export const parseOffset = (offset: string): number => parseOffsetOf(LOG_NAME, offset);

/** Wraps a SQLite failure in a {@link TransportError}, retryable when another try may succeed. */
export function storeError(action: string, path: string, cause: unknown): SluiceError {
  if (cause instanceof SluiceError) return cause;
  const code =
    typeof (cause as { code?: unknown })?.code === 'string' ? (cause as { code: string }).code : '';
  const detail = cause instanceof Error ? cause.message : String(cause);
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new TransportError(
      'SLUICE_STORE_BUSY',
      `${LOG_NAME}: ${action} waited too long for another process's lock on ${path} (${detail}); retry, or raise busyTimeoutMs`,
      { cause, retryable: true },
    );
  }
  if (code.startsWith('SQLITE_IOERR') || code === 'SQLITE_FULL') {
    return new TransportError(
      'SLUICE_STORE_IO',
      `${LOG_NAME}: ${action} failed to write ${path} (${detail}); check free disk space and permissions, then retry`,
      { cause, retryable: true },
    );
  }
  return new TransportError('SLUICE_STORE_FAILED', `${LOG_NAME}: ${action} failed on ${path}: ${detail}`, {
    cause,
    retryable: false,
  });
}
