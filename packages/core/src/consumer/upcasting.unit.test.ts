import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defineEvent, type EventContract } from '../contracts/define-event.js';
import { defineKey } from '../contracts/define-key.js';
import { defineTopic } from '../contracts/define-topic.js';
import { defineUpcaster } from '../contracts/define-upcaster.js';
import { encodeEnvelope } from '../envelope/codec.js';
import { InvalidOptionError } from '../errors.js';
import { envelopeOf, prepareEvent } from '../outbox/prepare-event.js';
import { MemoryInbox } from '../testing/memory-stores.js';
import { createMemoryTransport } from '../transport/memory/memory-transport.js';
import type { Transport } from '../transport/transport.js';
import { sleep } from '../util/sleep.js';
import { createConsumer } from './consumer.js';
import type { ConsumeOutcome } from './consumer-options.js';
import { handle } from './handler.js';

const CardId = defineKey('cardId', z.string().min(1), { description: 'a card' });
const topic = defineTopic({ name: 'cards', kind: 'event', partitions: 2 });
const IssuedV1 = defineEvent({
  type: 'card.issued',
  version: 1,
  key: CardId,
  topic,
  description: 'a card was issued',
  schema: z.object({ cardId: z.string(), limit: z.int() }),
  deprecated: { since: '2026-01-01', replacedBy: 2 },
});
const IssuedV2 = defineEvent({
  type: 'card.issued',
  version: 2,
  key: CardId,
  topic,
  description: 'a card was issued, limit in cents',
  schema: z.object({ cardId: z.string(), limitCents: z.int() }),
});

const seqs = new Map<string, number>();
async function publish(t: Transport, c: EventContract, data: Record<string, unknown>, time: string) {
  await t.ensureTopic(topic);
  const key = String(data['cardId']);
  const seq = (seqs.get(key) ?? 0) + 1;
  seqs.set(key, seq);
  const envelope = envelopeOf(prepareEvent(c, data as never, undefined, Date.parse(time)), 'urn:test', seq);
  await t.publish([{ topic: topic.name, key, value: encodeEnvelope(envelope), id: envelope.id }]);
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

describe('consumer upcasting and deprecation', () => {
  it('refuses two upcasters from one version, and an upcaster whose chain reaches no handler', () => {
    const transport = createMemoryTransport();
    const base = {
      transport,
      group: 'g',
      inbox: new MemoryInbox(),
      handlers: [handle(IssuedV2, () => undefined)],
    };
    const up = defineUpcaster(IssuedV1, IssuedV2, (v1) => ({
      cardId: v1.cardId,
      limitCents: v1.limit * 100,
    }));
    const again = defineUpcaster(IssuedV1, IssuedV2, (v1) => ({ cardId: v1.cardId, limitCents: v1.limit }));
    assert.throws(() => createConsumer({ ...base, upcasters: [up, again] }), InvalidOptionError);
    assert.throws(
      () => createConsumer({ ...base, handlers: [handle(IssuedV1, () => undefined)], upcasters: [up] }),
      /chain ends at card\.issued v2 without reaching a version this consumer handles/,
    );
  });

  it('dead-letters an upcaster that returns a promise or changes the key; counts deprecated records from their date, once each', async () => {
    const transport = createMemoryTransport();
    const warnings: string[] = [];
    const outcomes: ConsumeOutcome[] = [];
    const applied: string[] = [];
    let failOnce = true;
    const upcaster = defineUpcaster(IssuedV1, IssuedV2, (v1) => {
      if (v1.cardId === 'async') return Promise.resolve({ cardId: 'async', limitCents: 1 }) as never;
      if (v1.cardId === 'moved') return { cardId: 'elsewhere', limitCents: 1 };
      return { cardId: v1.cardId, limitCents: v1.limit * 100 };
    });
    await publish(transport, IssuedV1, { cardId: 'old', limit: 1 }, '2025-12-31T23:59:59Z');
    await publish(transport, IssuedV1, { cardId: 'new', limit: 2 }, '2026-01-01T00:00:00Z');
    await publish(transport, IssuedV1, { cardId: 'new', limit: 3 }, '2026-06-01T00:00:00Z');
    await publish(transport, IssuedV1, { cardId: 'async', limit: 4 }, '2026-06-01T00:00:00Z');
    await publish(transport, IssuedV1, { cardId: 'moved', limit: 5 }, '2026-06-01T00:00:00Z');
    await publish(transport, IssuedV2, { cardId: 'new', limitCents: 600 }, '2026-06-01T00:00:00Z');
    const consumer = createConsumer({
      transport,
      group: 'cards',
      inbox: new MemoryInbox(),
      backoff: { initialMs: 1, maxMs: 5 },
      upcasters: [upcaster],
      logger: { debug() {}, info() {}, warn: (m) => void warnings.push(m), error() {} },
      onOutcome: (o) => void outcomes.push(o),
      handlers: [
        handle(IssuedV2, (e) => {
          if (e.data.limitCents === 300 && failOnce) {
            failOnce = false;
            throw new Error('flaky'); // retried: the record is counted once all the same
          }
          applied.push(`${e.key}:${e.data.limitCents}:${e.upcastFrom ?? '-'}`);
        }),
      ],
    });
    try {
      await until(() => outcomes.filter((o) => o.kind !== 'retry').length === 6);
      assert.deepEqual(applied.toSorted(), ['new:200:1', 'new:300:1', 'new:600:-', 'old:100:1']);
      const dead = outcomes.flatMap((o) => (o.kind === 'dead-lettered' ? [o.error] : []));
      assert.deepEqual(
        dead.map((e) => e.code),
        ['SLUICE_UPCAST_FAILED', 'SLUICE_UPCAST_FAILED'],
      );
      assert.ok(
        dead.some((e) =>
          /card\.issued v1->v2 returned a promise; upcasters must be synchronous/.test(e.message),
        ),
      );
      assert.ok(
        dead.some((e) => /card\.issued v1->v2 changed the key from moved to elsewhere/.test(e.message)),
      );
      // Four v1 records produced on or after 2026-01-01 (the one before is not counted), one of them retried.
      assert.equal(consumer.stats().deprecatedReceived, 4);
      assert.equal(warnings.filter((w) => w.includes('deprecated since 2026-01-01')).length, 1);
    } finally {
      await consumer.stop();
    }
  });
});
