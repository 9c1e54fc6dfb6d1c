import type { NatsConnection } from '@nats-io/transport-node';
import { type OutgoingRecord, PayloadTooLargeError, type PublishAck, TransportError } from '@sluice/core';
import { partitionFor } from '@sluice/core/adapter';
import { type EncodedRecord, encodeRecord } from './nats-codec.js';
import { NATS_NAME } from './nats-errors.js';
import type { NatsNames } from './nats-names.js';
import type { NatsTopic, NatsTopics } from './nats-topics.js';

const decoder = new TextDecoder();

/** What publishing needs from the transport. */
export interface PublishContext {
  readonly nc: NatsConnection;
  readonly names: NatsNames;
  readonly topics: NatsTopics;
  readonly maxPayloadBytes: number;
  readonly requestTimeoutMs: number;
}

/**
 * Publishes `records` and returns their acks in input order. Everything is checked first (topics exist,
 * sizes fit `max_payload`), so a refused batch publishes nothing. Each record is a JetStream publish request
 * with `Nats-Msg-Id` = the record id (the stream drops a republished id within its duplicate window and acks
 * the original sequence). The first record of each key in the batch is sent at once, all of them pipelined on
 * the connection; a later record of the same key is sent only once the one before it is acknowledged. A
 * request can be lost while a later one is stored (the stream leader dies with the first in flight and a new
 * leader stores the second; the connection drops and the client sends what it buffered after reconnecting),
 * so pipelining a key's records would store them out of order whenever the earlier one is retried. Resolves
 * once every ack arrived; rejects with a retryable `TransportError` if any failed (earlier records may be
 * stored: the caller republishes them, the duplicate window drops them; no record after a failed one of its
 * key was sent).
 */
export async function publishRecords(
  ctx: PublishContext,
  records: readonly OutgoingRecord[],
): Promise<PublishAck[]> {
  const count = records.length;
  if (count === 0) return [];
  const topics = new Array<NatsTopic>(count);
  const encoded = new Array<EncodedRecord>(count);
  const subjects = new Array<string>(count);
  const partitions = new Array<number>(count);
  let last: NatsTopic | undefined;
  for (let i = 0; i < count; i++) {
    const record = records[i]!;
    checkRecord(record);
    const topic =
      last !== undefined && last.name === record.topic ? last : await ctx.topics.get(record.topic);
    last = topic;
    topics[i] = topic;
    const e = encodeRecord(record);
    if (e.size > ctx.maxPayloadBytes) throw new PayloadTooLargeError(NATS_NAME, e.size, ctx.maxPayloadBytes);
    encoded[i] = e;
    const partition = topic.partitions === 1 ? 0 : partitionFor(record.key, topic.partitions);
    partitions[i] = partition;
    subjects[i] = ctx.names.recordSubject(topic.name, partition, record.key, topic.entity);
  }
  // First records of each key: sent synchronously, in order, before the first await. A later record of a key
  // goes out when the one before it is acknowledged, and not at all if that one failed.
  const pending = new Array<Promise<PublishAck>>(count);
  const lastOfKey = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const send = () =>
      ctx.nc
        .request(subjects[i]!, encoded[i]!.body, {
          headers: encoded[i]!.headers,
          timeout: ctx.requestTimeoutMs,
        })
        .then((reply) => ackOf(reply.data, topics[i]!.name, partitions[i]!));
    const key = `${topics[i]!.name}\u0000${records[i]!.key}`;
    const before = lastOfKey.get(key);
    lastOfKey.set(key, i);
    pending[i] =
      before === undefined
        ? send()
        : pending[before]!.then(send, (cause: unknown) => {
            throw new NotSentError(cause);
          });
  }
  const settled = await Promise.allSettled(pending);
  const acks = new Array<PublishAck>(count);
  let failure: unknown;
  let failed = 0;
  for (let i = 0; i < count; i++) {
    const result = settled[i]!;
    if (result.status === 'fulfilled') acks[i] = result.value;
    else {
      failed++;
      if (!(result.reason instanceof NotSentError)) failure ??= result.reason;
    }
  }
  if (failed > 0) {
    if ((failure as { code?: unknown })?.code === 503 || /no responders/i.test(String(failure))) {
      // The stream is gone (or not reachable): look it up again next time.
      for (const t of new Set(topics)) ctx.topics.forget(t.name);
    }
    throw new TransportError(
      'SLUICE_PUBLISH_UNCONFIRMED',
      `${NATS_NAME}: ${failed} of ${count} records were not acknowledged (${String((failure as Error)?.message ?? failure)}); ` +
        'earlier ones may be stored: publish the batch again (duplicates are dropped by Nats-Msg-Id)',
      { cause: failure },
    );
  }
  return acks;
}

/** A record not sent because the record before it of the same key failed. */
class NotSentError extends Error {
  constructor(cause: unknown) {
    super('not sent: the record before it of the same key failed', { cause });
  }
}

/** The ack in a JetStream publish reply, or an error carrying the server's description. */
function ackOf(data: Uint8Array, topic: string, partition: number): PublishAck {
  const body = JSON.parse(decoder.decode(data)) as {
    seq?: number;
    error?: { code: number; err_code?: number; description: string };
  };
  if (body.error !== undefined || typeof body.seq !== 'number') {
    throw Object.assign(new Error(body.error?.description ?? 'invalid publish ack'), {
      code: body.error?.code,
    });
  }
  return { topic, partition, offset: String(body.seq) };
}

function checkRecord(record: OutgoingRecord): void {
  const reason =
    record === null || typeof record !== 'object'
      ? 'must be an object'
      : typeof record.key !== 'string'
        ? 'key must be a string'
        : record.value !== null && typeof record.value !== 'string'
          ? 'value must be a string (the encoded envelope) or null (a tombstone)'
          : typeof record.id !== 'string' || record.id === ''
            ? 'id must be a non-empty string (it is the Nats-Msg-Id)'
            : undefined;
  if (reason !== undefined) {
    throw new TransportError(
      'SLUICE_INVALID_RECORD',
      `${NATS_NAME}: record ${JSON.stringify(record?.id)} for topic ${record?.topic}: ${reason}; nothing was published`,
    );
  }
}
