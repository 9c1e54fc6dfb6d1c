import { InvalidOptionError } from '../errors.js';
import type { PollOptions, SubscribeOptions } from './records.js';

/**
 * Validates `subscribe` options as every transport must (a non-empty group, at least one topic, a non-empty
 * member id when given, `startFrom` earliest or latest), naming the field; returns the `startFrom` to use.
 */
export function checkSubscribeOptions(options: SubscribeOptions): 'earliest' | 'latest' {
  const where = 'subscribe';
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError(where, 'options', 'must be an object with group and topics');
  }
  if (typeof options.group !== 'string' || options.group.length === 0) {
    throw new InvalidOptionError(
      where,
      'group',
      `must be a non-empty string, got ${JSON.stringify(options.group)}`,
    );
  }
  if (!Array.isArray(options.topics) || options.topics.length === 0) {
    throw new InvalidOptionError(where, 'topics', 'must list at least one topic');
  }
  if (options.memberId !== undefined && (typeof options.memberId !== 'string' || options.memberId === '')) {
    throw new InvalidOptionError(where, 'memberId', 'must be a non-empty string when given');
  }
  const startFrom = options.startFrom ?? 'earliest';
  if (startFrom !== 'earliest' && startFrom !== 'latest') {
    throw new InvalidOptionError(where, 'startFrom', `must be earliest or latest, got ${String(startFrom)}`);
  }
  return startFrom;
}

/** Validates `poll` options as every transport must (`maxRecords` a positive integer, `maxWaitMs` >= 0). */
export function checkPollOptions(options: PollOptions): void {
  const { maxRecords, maxWaitMs } = options;
  if (!Number.isSafeInteger(maxRecords) || maxRecords < 1) {
    throw new InvalidOptionError('poll', 'maxRecords', `must be a positive integer, got ${maxRecords}`);
  }
  if (typeof maxWaitMs !== 'number' || !(maxWaitMs >= 0)) {
    throw new InvalidOptionError('poll', 'maxWaitMs', `must be a number >= 0, got ${maxWaitMs}`);
  }
}
