import { TransportError } from '../errors.js';

/** Publishing to, subscribing to or reading a topic that was never ensured, on transport `name`. */
export function unknownTopicError(name: string, topic: string): TransportError {
  return new TransportError(
    'SLUICE_UNKNOWN_TOPIC',
    `${name}: topic ${JSON.stringify(topic)} does not exist; call transport.ensureTopic(spec) before using it`,
  );
}

/** `ensureTopic` found the topic with another kind or partition count, on transport `name`. */
export function topicMismatchError(
  name: string,
  topic: string,
  existing: { kind: string; partitions: number },
  wanted: { kind: string; partitions: number },
): TransportError {
  return new TransportError(
    'SLUICE_TOPIC_MISMATCH',
    `${name}: topic ${JSON.stringify(topic)} exists as ${existing.kind} with ${existing.partitions} partition(s), ` +
      `but ${wanted.kind} with ${wanted.partitions} was asked for; a topic never changes kind or partition count: ` +
      'declare a new topic (e.g. with a version suffix) and move producers and consumers to it',
  );
}

/** An offset string that is not a non-negative decimal integer, on transport `name`. */
export function invalidOffsetError(name: string, offset: unknown): TransportError {
  return new TransportError(
    'SLUICE_INVALID_OFFSET',
    `${name}: offset ${JSON.stringify(offset)} is not a non-negative decimal integer; pass an offset from a PublishAck or ConsumedRecord`,
  );
}

/** Parses an offset string of transport `name` (a non-negative safe integer in decimal). */
export function parseOffset(name: string, offset: string): number {
  if (typeof offset !== 'string' || !/^\d{1,16}$/.test(offset)) throw invalidOffsetError(name, offset);
  const n = Number(offset);
  if (!Number.isSafeInteger(n)) throw invalidOffsetError(name, offset);
  return n;
}
