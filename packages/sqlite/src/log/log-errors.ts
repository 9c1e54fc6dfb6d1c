import { SluiceError, TransportError } from '@sluice/core';

/** The transport's name in messages. */
export const LOG_NAME = 'embedded-log';

/** Publishing to, subscribing to or reading a topic that was never ensured. */
export function unknownTopicError(topic: string): TransportError {
  return new TransportError(
    'SLUICE_UNKNOWN_TOPIC',
    `${LOG_NAME}: topic ${JSON.stringify(topic)} does not exist; call transport.ensureTopic(spec) before using it`,
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
    `${LOG_NAME}: topic ${JSON.stringify(topic)} exists as ${existing.kind} with ${existing.partitions} partition(s), ` +
      `but ${wanted.kind} with ${wanted.partitions} was asked for; a topic never changes kind or partition count: ` +
      'declare a new topic (e.g. with a version suffix) and move producers and consumers to it',
    { retryable: false },
  );
}

/** An offset string that is not a non-negative decimal integer. */
export function invalidOffsetError(offset: unknown): TransportError {
  return new TransportError(
    'SLUICE_INVALID_OFFSET',
    `${LOG_NAME}: offset ${JSON.stringify(offset)} is not a non-negative decimal integer; pass an offset from a PublishAck or ConsumedRecord`,
    { retryable: false },
  );
}

/** Parses an offset string. */
export function parseOffset(offset: string): number {
  if (typeof offset !== 'string' || !/^\d{1,16}$/.test(offset)) throw invalidOffsetError(offset);
  const n = Number(offset);
  if (!Number.isSafeInteger(n)) throw invalidOffsetError(offset);
  return n;
}

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
