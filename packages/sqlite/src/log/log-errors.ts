import type { SluiceError, TransportError } from '@sluice/core';
import {
  invalidOffsetError as invalidOffset,
  parseOffset as parseOffsetOf,
  topicMismatchError as topicMismatch,
  unknownTopicError as unknownTopic,
} from '@sluice/core/adapter';
import { toSluiceError } from '../errors.js';

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

/** Wraps a SQLite failure of the log's file in a `SluiceError` (classified by `../errors.ts`). */
export function storeError(action: string, path: string, cause: unknown): SluiceError {
  return toSluiceError(cause, `${LOG_NAME}: ${action}`, path);
}
