import { InvalidOptionError, type SeekTarget } from '@sluice/core';
import { type CursorContext, NatsCursor } from './nats-cursor.js';
import { natsError, parseOffset } from './nats-errors.js';
import type { NatsNames } from './nats-names.js';
import type { NatsTopic } from './nats-topics.js';

/** The partitions a target applies to: one for an offset, all otherwise. */
export function partitionsOf(topic: NatsTopic, target: SeekTarget): number[] {
  if (target === null || typeof target !== 'object') {
    throw new InvalidOptionError('seek', 'target', 'must be { to: earliest | latest | time | offset }');
  }
  if (target.to === 'offset') {
    if (!Number.isInteger(target.partition) || target.partition < 0 || target.partition >= topic.partitions) {
      throw new InvalidOptionError(
        'seek',
        'partition',
        `must be an integer from 0 to ${topic.partitions - 1} for topic ${topic.name}, got ${target.partition}`,
      );
    }
    return [target.partition];
  }
  if (target.to === 'time' && !Number.isFinite(target.time)) {
    throw new InvalidOptionError('seek', 'time', `must be milliseconds since the epoch, got ${target.time}`);
  }
  if (target.to !== 'earliest' && target.to !== 'latest' && target.to !== 'time') {
    throw new InvalidOptionError(
      'seek',
      'to',
      `must be earliest, latest, time or offset, got ${String((target as { to: unknown }).to)}`,
    );
  }
  return Array.from({ length: topic.partitions }, (_, p) => p);
}

/**
 * The stream sequence a target means: `earliest` 0 (the first record kept), `latest` the stream's last
 * sequence + 1, `time` the first record stored at or after the time in the whole stream (sequences and
 * timestamps grow together, so that is also the first such record of every partition), `offset` the offset.
 */
export async function positionOf(
  ctx: CursorContext,
  names: NatsNames,
  topic: NatsTopic,
  target: SeekTarget,
): Promise<number> {
  switch (target.to) {
    case 'earliest':
      return 0;
    case 'offset':
      return parseOffset(target.offset);
    case 'latest':
      return (await lastSequence(ctx, topic)) + 1;
    case 'time': {
      const last = await lastSequence(ctx, topic);
      const cursor = await NatsCursor.open(ctx, topic.stream, names.topicFilter(topic.name), {
        time: target.time,
      });
      try {
        const [first] = await cursor.pull(1);
        return first === undefined ? last + 1 : first.sequence;
      } finally {
        cursor.close();
      }
    }
  }
}

async function lastSequence(ctx: CursorContext, topic: NatsTopic): Promise<number> {
  try {
    return (await ctx.jsm.streams.info(topic.stream)).state.last_seq;
  } catch (error) {
    throw natsError(`reading the stream of topic ${topic.name}`, error);
  }
}
