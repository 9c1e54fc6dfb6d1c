import { AckPolicy, type ConsumerConfig, DeliverPolicy } from '@nats-io/jetstream';
import type { PartitionLag } from '@sluice/core';
import type { CursorContext } from './nats-cursor.js';
import { natsError } from './nats-errors.js';
import type { NatsGroups } from './nats-groups.js';
import type { NatsNames } from './nats-names.js';
import { positionOf } from './nats-positions.js';
import type { NatsTopic } from './nats-topics.js';

/** How long a counting consumer lives on the server if this client dies before deleting it. */
const INACTIVE_THRESHOLD_NS = 60 * 1_000_000_000;

/**
 * A group's lag in each partition of a topic. Offsets are stream sequences shared by the topic's partitions,
 * so every partition's `end` is the stream's last sequence + 1. The records left in a partition, from the
 * committed position (or the first record a `message` topic still delivers, whichever is later), are counted
 * by the server: the stream's per-subject count when that covers them all, else an ephemeral consumer on the
 * partition's filter starting there, which answers its `num_pending` at creation and is deleted at once.
 * Replaced entity values and purged tombstones are gone from the stream, so they are not counted.
 */
export async function readLag(
  ctx: CursorContext,
  names: NatsNames,
  groups: NatsGroups,
  topic: NatsTopic,
  group: string,
  now: number,
): Promise<PartitionLag[]> {
  await groups.ensureStreams();
  const partitions = Array.from({ length: topic.partitions }, (_, p) => p);
  const [state, oldest, committed] = await Promise.all([
    // Event and message topics have one subject per partition: the stream counts each (entity topics have
    // one per key, too many to list).
    ctx.jsm.streams
      .info(topic.stream, topic.entity ? undefined : { subjects_filter: names.topicFilter(topic.name) })
      .then(
        (info) => info.state,
        (error: unknown) => {
          throw natsError(`reading the stream of topic ${topic.name}`, error);
        },
      ),
    topic.retentionMs === undefined
      ? 0
      : positionOf(ctx, names, topic, { to: 'time', time: now - topic.retentionMs }),
    Promise.all(partitions.map((p) => groups.committed(group, topic.name, p))),
  ]);
  const lastSeq = state.last_seq;
  return Promise.all(
    partitions.map(async (partition): Promise<PartitionLag> => {
      const position = committed[partition];
      const from = Math.max(position ?? 0, oldest);
      const filter = names.partitionFilter(topic.name, partition, topic.entity);
      let lag: number;
      if (from > lastSeq) lag = 0;
      else if (topic.entity) lag = await pendingFrom(ctx, topic.stream, filter, from);
      else {
        // The stream's own count when every record of the subject counts; a counting consumer otherwise,
        // unless the subject's last record is before `from` (a caught-up partition costs no consumer).
        const total = state.subjects?.[filter] ?? 0;
        if (total === 0 || from <= state.first_seq) lag = total;
        else if ((await lastSequenceOf(ctx, topic.stream, filter)) < from) lag = 0;
        else lag = await pendingFrom(ctx, topic.stream, filter, from);
      }
      return {
        partition,
        committed: position === undefined ? null : String(position),
        end: String(lastSeq + 1),
        lag,
      };
    }),
  );
}

/** The sequence of the last message on `subject` (0 when none). */
async function lastSequenceOf(ctx: CursorContext, stream: string, subject: string): Promise<number> {
  try {
    return (await ctx.jsm.streams.getMessage(stream, { last_by_subj: subject }))?.seq ?? 0;
  } catch (error) {
    if ((error as { code?: unknown }).code === 10037) return 0; // no message found
    throw natsError(`reading the last record of ${subject}`, error);
  }
}

/** The messages of `filter` at or after sequence `from`, as a consumer created there counts them. */
async function pendingFrom(
  ctx: CursorContext,
  stream: string,
  filter: string,
  from: number,
): Promise<number> {
  const config: Partial<ConsumerConfig> = {
    ack_policy: AckPolicy.None,
    filter_subject: filter,
    mem_storage: true,
    num_replicas: 1,
    inactive_threshold: INACTIVE_THRESHOLD_NS,
    ...(from <= 1
      ? { deliver_policy: DeliverPolicy.All }
      : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from }),
  };
  let name: string;
  let pending: number;
  try {
    const info = await ctx.jsm.consumers.add(stream, config);
    name = info.name;
    pending = info.num_pending;
  } catch (error) {
    throw natsError(`counting the records of ${filter} from ${from}`, error);
  }
  await ctx.jsm.consumers.delete(stream, name).catch(() => undefined);
  return pending;
}
