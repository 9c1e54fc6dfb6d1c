import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OutgoingRecord } from '@sluice/core';
import { natsNames } from './nats-names.js';
import { type PublishContext, publishRecords } from './nats-publish.js';
import type { NatsTopic, NatsTopics } from './nats-topics.js';

/**
 * The publish logic on a scripted connection: which requests go out, in which order, and which are held back.
 * (The real server's behaviour, a request lost with the stream leader while a later one is stored, is what
 * `nats-cluster.fault.test.ts` meets; this pins down the rule that makes it harmless.)
 */
function scripted(fail: (subjectIndex: number) => boolean) {
  const sent: string[] = [];
  let seq = 0;
  const topic: NatsTopic = {
    name: 'orders',
    kind: 'event',
    partitions: 1,
    retentionMs: undefined,
    stream: 'orders',
    entity: false,
  };
  const ctx: PublishContext = {
    names: natsNames('t'),
    topics: { get: async () => topic, forget: () => undefined } as unknown as NatsTopics,
    maxPayloadBytes: 1 << 20,
    requestTimeoutMs: 1000,
    nc: {
      request: (_subject: string, body: Uint8Array) => {
        const id = JSON.parse(new TextDecoder().decode(body)).id as string;
        const index = sent.length;
        sent.push(id);
        // Replies come back later than every synchronous send.
        return new Promise((resolve, reject) =>
          setTimeout(() => {
            if (fail(index)) reject(new Error(`request ${id} timed out`));
            else
              resolve({ data: new TextEncoder().encode(JSON.stringify({ stream: 'orders', seq: ++seq })) });
          }, 5),
        );
      },
    } as unknown as PublishContext['nc'],
  };
  return { ctx, sent };
}

const rec = (key: string, n: number): OutgoingRecord => ({
  topic: 'orders',
  key,
  id: `${key}-${n}`,
  value: JSON.stringify({ id: `${key}-${n}` }),
});

describe('NATS publishRecords: per-key order when a request is lost', () => {
  it('sends the first record of every key at once, a later one of a key only after the one before is acked', async () => {
    const { ctx, sent } = scripted(() => false);
    const acks = await publishRecords(ctx, [rec('a', 1), rec('b', 1), rec('a', 2), rec('c', 1), rec('a', 3)]);
    assert.deepEqual(sent, ['a-1', 'b-1', 'c-1', 'a-2', 'a-3']);
    assert.deepEqual(
      acks.map((a) => a.offset),
      ['1', '2', '4', '3', '5'],
    );
  });

  it('a failed request: the later records of its key are never sent, other keys are, and the batch is refused', async () => {
    const { ctx, sent } = scripted((i) => i === 0); // a-1 is lost
    await assert.rejects(
      publishRecords(ctx, [rec('a', 1), rec('b', 1), rec('a', 2), rec('b', 2), rec('a', 3)]),
      (e: Error & { code?: string; retryable?: boolean }) =>
        e.code === 'SLUICE_PUBLISH_UNCONFIRMED' && e.retryable === true && /3 of 5/.test(e.message),
    );
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.deepEqual(sent, ['a-1', 'b-1', 'b-2'], 'a-2 and a-3 must not go out after a-1 failed');
  });
});
