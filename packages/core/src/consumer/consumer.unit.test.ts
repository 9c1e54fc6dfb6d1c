import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defineEvent } from '../contracts/define-event.js';
import { defineKey } from '../contracts/define-key.js';
import { defineTopic } from '../contracts/define-topic.js';
import { encodeEnvelope } from '../envelope/codec.js';
import { DATABASE_UNAVAILABLE, SluiceError } from '../errors.js';
import { envelopeOf, prepareEvent } from '../outbox/prepare-event.js';
import { MemoryInbox } from '../testing/memory-stores.js';
import { createMemoryTransport } from '../transport/memory/memory-transport.js';
import type { Transport } from '../transport/transport.js';
import { sleep } from '../util/sleep.js';
import { createConsumer } from './consumer.js';
import { parseDeadLetter } from './dead-letter.js';
import { handle } from './handler.js';

const AccountId = defineKey('accountId', z.string().min(1), { description: 'an account' });
const topic = defineTopic({ name: 'accounts', kind: 'event', partitions: 4 });
const Deposited = defineEvent({
  type: 'account.deposited',
  version: 1,
  key: AccountId,
  topic,
  description: 'money in',
  schema: z.object({ accountId: z.string().min(1), amount: z.int().positive() }),
});
const DepositedV2 = defineEvent({
  type: 'account.deposited',
  version: 2,
  key: AccountId,
  topic,
  description: 'money in, with currency',
  schema: z.object({ accountId: z.string().min(1), amount: z.int().positive(), currency: z.string() }),
});

/** Each key's counter, per transport (each test starts its own bus, so its keys count from 1). */
const counters = new WeakMap<Transport, Map<string, number>>();
async function publish(
  transport: Transport,
  accountId: string,
  amount: number,
  id?: string,
): Promise<string> {
  await transport.ensureTopic(topic);
  const p = prepareEvent(Deposited, { accountId, amount });
  const sequences = counters.get(transport) ?? new Map<string, number>();
  counters.set(transport, sequences);
  const seq = (sequences.get(accountId) ?? 0) + 1;
  sequences.set(accountId, seq);
  const envelope = { ...envelopeOf(p, 'urn:test', seq), ...(id ? { id } : {}) };
  await transport.publish([
    { topic: topic.name, key: accountId, value: encodeEnvelope(envelope), id: envelope.id },
  ]);
  return envelope.id;
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

describe('consumer', () => {
  it('applies ready events of different keys in one inbox batch; a failing one is retried alone', async () => {
    const transport = createMemoryTransport();
    const inbox = new MemoryInbox();
    for (let i = 0; i < 20; i++) await publish(transport, `k${i}`, 1);
    let failedOnce = false;
    const consumer = createConsumer({
      transport,
      group: 'g',
      inbox,
      backoff: { initialMs: 1, maxMs: 5 },
      handlers: [
        handle(Deposited, (e, { tx }: { tx: { effects: string[] } }) => {
          if (e.key === 'k7' && !failedOnce) {
            failedOnce = true;
            throw new Error('once');
          }
          tx.effects.push(e.key);
        }),
      ],
    });
    await until(() => inbox.effects.length === 20);
    await consumer.stop();
    assert.ok(
      inbox.batches.some((n) => n > 1),
      `batches ${JSON.stringify(inbox.batches)}`,
    );
    assert.equal(new Set(inbox.effects).size, 20, 'each applied once');
    assert.equal(consumer.stats().retries, 1);
  });
  for (const code of [DATABASE_UNAVAILABLE, 'SLUICE_BUSY'] as const) {
    it(`waits out ${code} from its own inbox without spending attempts or dead-lettering`, async () => {
      const transport = createMemoryTransport();
      const inbox = new MemoryInbox();
      let down = 12; // more failures than maxAttempts
      const flaky = {
        name: 'flaky',
        runOnce: async (group: string, id: string, apply: (tx: { effects: string[] }) => unknown) => {
          if (down-- > 0) {
            throw new SluiceError(code, 'connection refused or lock timeout');
          }
          return inbox.runOnce(group, id, apply);
        },
        startGroup: async () => false,
        passChain: async () => 'passed' as const,
        close: async () => {},
      };
      await publish(transport, 'u', 1);
      await publish(transport, 'u', 2);
      const attempts: number[] = [];
      const consumer = createConsumer({
        transport,
        group: 'g',
        inbox: flaky,
        maxAttempts: 3,
        backoff: { initialMs: 1, maxMs: 5 },
        handlers: [
          handle(Deposited, (e, { tx, attempt }: { tx: { effects: string[] }; attempt: number }) => {
            attempts.push(attempt);
            tx.effects.push(`${e.key}:${e.data.amount}`);
          }),
        ],
      });
      await until(() => inbox.effects.length === 2);
      await consumer.stop();
      assert.deepEqual(inbox.effects, ['u:1', 'u:2'], 'applied in order once the database answered');
      assert.deepEqual(attempts, [1, 1], 'the outage spent none of the attempts');
      assert.equal(consumer.stats().deadLettered, 0);
      const dlq = await transport.read('g.dlq', { to: 'earliest' }, 10).catch(() => []);
      assert.deepEqual(dlq, []);
    });
  }
  it('applies each event once; a redelivered event is skipped by the inbox', async () => {
    const transport = createMemoryTransport();
    const inbox = new MemoryInbox();
    const dupId = await publish(transport, 'a', 1);
    await publish(transport, 'a', 2);
    await publish(transport, 'a', 1, dupId); // the relay sent it twice
    let duplicates = 0;
    const consumer = createConsumer({
      transport,
      group: 'g',
      inbox,
      handlers: [
        handle(Deposited, (e, { tx }: { tx: { effects: string[] } }) =>
          tx.effects.push(`${e.key}:${e.data.amount}`),
        ),
      ],
      onOutcome: (o) => {
        if (o.kind === 'duplicate') duplicates++;
      },
    });
    await until(() => inbox.effects.length === 2 && duplicates === 1);
    await consumer.stop();
    assert.deepEqual(inbox.effects, ['a:1', 'a:2']);
  });

  it('keeps going when its buffer fills with settled records between commits', async () => {
    const transport = createMemoryTransport();
    const inbox = new MemoryInbox();
    for (let i = 1; i <= 60; i++) await publish(transport, `full-${i % 7}`, i);
    const consumer = createConsumer({
      transport,
      group: 'g',
      inbox,
      maxBuffered: 10,
      commitIntervalMs: 3_600_000, // the interval never comes: only a full buffer can trigger the commit
      handlers: [
        handle(Deposited, (e, { tx }: { tx: { effects: string[] } }) =>
          tx.effects.push(`${e.key}:${e.data.amount}`),
        ),
      ],
    });
    await until(() => inbox.effects.length === 60);
    await consumer.stop();
    assert.equal(new Set(inbox.effects).size, 60);
  });

  it('waits for a broker that is away when it joins and while it polls, losing nothing', async () => {
    const inner = createMemoryTransport();
    for (let i = 1; i <= 5; i++) await publish(inner, 'away', i);
    const busy = () => new SluiceError('SLUICE_BROKER_UNAVAILABLE', 'the broker is restarting; retry');
    let joinRefusals = 2;
    let pollFailures = 3;
    const flaky: Transport = {
      name: 'flaky',
      ensureTopic: (spec) => inner.ensureTopic(spec),
      publish: (records) => inner.publish(records),
      resetOffsets: (g, t, target) => inner.resetOffsets(g, t, target),
      lag: (g, t) => inner.lag(g, t),
      read: (t, target, limit) => inner.read(t, target, limit),
      close: () => inner.close(),
      subscribe: async (options) => {
        if (joinRefusals > 0) {
          joinRefusals--;
          throw busy();
        }
        const sub = await inner.subscribe(options);
        return {
          poll: async (o) => {
            if (pollFailures > 0) {
              pollFailures--;
              throw busy();
            }
            return sub.poll(o);
          },
          commit: (r) => sub.commit(r),
          assignment: () => sub.assignment(),
          seek: (t, target) => sub.seek(t, target),
          close: () => sub.close(),
        };
      },
    };
    const inbox = new MemoryInbox();
    const consumer = createConsumer({
      transport: flaky,
      group: 'g',
      inbox,
      backoff: { initialMs: 5, maxMs: 10 },
      handlers: [
        handle(Deposited, (e, { tx }: { tx: { effects: string[] } }) =>
          tx.effects.push(`${e.key}:${e.data.amount}`),
        ),
      ],
    });
    await until(() => inbox.effects.length === 5);
    await consumer.stop();
    assert.deepEqual(inbox.effects, ['away:1', 'away:2', 'away:3', 'away:4', 'away:5']);
    assert.equal(joinRefusals, 0, 'joined after the broker came back');
    assert.equal(pollFailures, 0, 'polled again after the failed polls');
  });

  it('retries a failing event while later events of its key wait and other keys flow on', async () => {
    const transport = createMemoryTransport();
    const inbox = new MemoryInbox();
    const order: string[] = [];
    let failures = 0;
    await publish(transport, 'slow', 1);
    await publish(transport, 'slow', 2);
    for (let i = 1; i <= 5; i++) await publish(transport, `fast${i}`, i);
    const consumer = createConsumer({
      transport,
      group: 'g',
      inbox,
      backoff: { initialMs: 100, maxMs: 100 },
      handlers: [
        handle(Deposited, (e) => {
          if (e.key === 'slow' && e.data.amount === 1 && failures < 2) {
            failures++;
            throw new Error('database busy');
          }
          order.push(`${e.key}:${e.data.amount}`);
        }),
      ],
    });
    await until(() => order.length === 7);
    await consumer.stop();
    assert.equal(failures, 2);
    // Other keys did not wait for the retries.
    assert.ok(order.findIndex((o) => o.startsWith('fast')) < order.indexOf('slow:1'));
    assert.ok(order.indexOf('slow:1') < order.indexOf('slow:2'), `order was ${order.join(', ')}`);
    assert.equal(consumer.stats().retries, 2);
  });

  it('with keyOrdering none, later events of a key do not wait behind a retried one', async () => {
    const transport = createMemoryTransport();
    const order: number[] = [];
    let failed = false;
    await publish(transport, 'k', 1);
    await publish(transport, 'k', 2);
    const consumer = createConsumer({
      transport,
      group: 'g',
      inbox: new MemoryInbox(),
      keyOrdering: 'none',
      backoff: { initialMs: 100, maxMs: 100 },
      handlers: [
        handle(Deposited, (e) => {
          if (e.data.amount === 1 && !failed) {
            failed = true;
            throw new Error('once');
          }
          order.push(e.data.amount);
        }),
      ],
    });
    await until(() => order.length === 2);
    await consumer.stop();
    assert.deepEqual(order, [2, 1], 'event 2 was applied while event 1 waited for its retry');
  });

  it('dead-letters an event whose handler keeps failing, with the reason, then goes on with its key', async () => {
    const transport = createMemoryTransport();
    const inbox = new MemoryInbox();
    const applied: number[] = [];
    await publish(transport, 'a', 1);
    const poisonId = await publish(transport, 'a', 66);
    await publish(transport, 'a', 3);
    const consumer = createConsumer({
      transport,
      group: 'billing',
      inbox,
      maxAttempts: 3,
      backoff: { initialMs: 5, maxMs: 10 },
      handlers: [
        handle(Deposited, (e) => {
          if (e.data.amount === 66) throw new Error('cannot book 66');
          applied.push(e.data.amount);
        }),
      ],
    });
    await until(() => applied.length === 2 && consumer.stats().deadLettered === 1);
    await consumer.stop();
    assert.deepEqual(applied, [1, 3]);
    const letters = (await transport.read('billing.dlq', { to: 'earliest' }, 10)).map(parseDeadLetter);
    assert.equal(letters.length, 1);
    assert.equal(letters[0]!.eventId, poisonId);
    assert.equal(letters[0]!.attempts, 3);
    assert.equal(letters[0]!.error.message, 'cannot book 66');
    assert.equal(letters[0]!.original.topic, 'accounts');
    assert.ok(letters[0]!.value?.includes('"amount":66'));
  });

  it('dead-letters a malformed message at once without blocking other keys', async () => {
    const transport = createMemoryTransport();
    const inbox = new MemoryInbox();
    const applied: string[] = [];
    await transport.ensureTopic(topic);
    await transport.publish([{ topic: topic.name, key: 'x', value: '{"not":"an envelope"', id: 'junk' }]);
    await publish(transport, 'x', 5);
    await publish(transport, 'y', 6);
    let attempts = 0;
    const consumer = createConsumer({
      transport,
      group: 'g',
      inbox,
      handlers: [
        handle(Deposited, (e) => {
          attempts++;
          applied.push(e.key);
        }),
      ],
    });
    await until(() => applied.length === 2 && consumer.stats().deadLettered === 1);
    await consumer.stop();
    assert.equal(attempts, 2);
    const [letter] = (await transport.read('g.dlq', { to: 'earliest' }, 10)).map(parseDeadLetter);
    assert.equal(letter!.error.code, 'SLUICE_MALFORMED_ENVELOPE');
    assert.equal(letter!.attempts, 1);
    assert.equal(letter!.value, '{"not":"an envelope"');
  });

  it('dead-letters an event that violates its contract, naming the field', async () => {
    const transport = createMemoryTransport();
    await transport.ensureTopic(topic);
    const p = prepareEvent(Deposited, { accountId: 'a', amount: 1 });
    const bad = encodeEnvelope({ ...envelopeOf(p, 'urn:test', 1), data: { accountId: 'a', amount: -5 } });
    await transport.publish([{ topic: topic.name, key: 'a', value: bad, id: p.id }]);
    const consumer = createConsumer({
      transport,
      group: 'g',
      inbox: new MemoryInbox(),
      handlers: [handle(Deposited, () => {})],
    });
    await until(() => consumer.stats().deadLettered === 1);
    await consumer.stop();
    const [letter] = (await transport.read('g.dlq', { to: 'earliest' }, 10)).map(parseDeadLetter);
    assert.equal(letter!.error.code, 'SLUICE_CONTRACT_VIOLATION');
    assert.match(letter!.error.message, /account\.deposited v1/);
    assert.match(letter!.error.message, /at amount/);
  });

  it('dead-letters a version it has no handler for, and skips unknown types', async () => {
    const transport = createMemoryTransport();
    await transport.ensureTopic(topic);
    const p2 = prepareEvent(DepositedV2, { accountId: 'a', amount: 1, currency: 'EUR' });
    await transport.publish([
      { topic: topic.name, key: 'a', value: encodeEnvelope(envelopeOf(p2, 'urn:test', 1)), id: p2.id },
    ]);
    const other = {
      ...envelopeOf(p2, 'urn:test', 1),
      id: crypto.randomUUID(),
      type: 'account.closed',
      dataschema: 'urn:x',
    };
    await transport.publish([{ topic: topic.name, key: 'b', value: encodeEnvelope(other), id: other.id }]);
    const consumer = createConsumer({
      transport,
      group: 'g',
      inbox: new MemoryInbox(),
      handlers: [handle(Deposited, () => {})],
    });
    await until(() => consumer.stats().deadLettered === 1 && consumer.stats().skipped === 1);
    await consumer.stop();
    const [letter] = (await transport.read('g.dlq', { to: 'earliest' }, 10)).map(parseDeadLetter);
    assert.equal(letter!.error.code, 'SLUICE_NO_HANDLER');
    assert.match(letter!.error.message, /handles version\(s\) 1/);
  });

  it('does not retry a handler error marked not retryable (SLUICE_HANDLER_REJECTED)', async () => {
    const transport = createMemoryTransport();
    await publish(transport, 'a', 1);
    let calls = 0;
    const consumer = createConsumer({
      transport,
      group: 'g',
      inbox: new MemoryInbox(),
      handlers: [
        handle(Deposited, () => {
          calls++;
          throw new SluiceError('SLUICE_HANDLER_REJECTED', 'account closed');
        }),
      ],
    });
    await until(() => consumer.stats().deadLettered === 1);
    await consumer.stop();
    assert.equal(calls, 1);
  });

  it('stops gracefully: the in-flight handler finishes; unsettled events are redelivered to the next member', async () => {
    const transport = createMemoryTransport();
    const inbox = new MemoryInbox();
    for (let i = 1; i <= 3; i++) await publish(transport, 'a', i);
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const finished: number[] = [];
    const first = createConsumer({
      transport,
      group: 'g',
      inbox,
      handlers: [
        handle(Deposited, async (e) => {
          if (e.data.amount === 2) await gate;
          finished.push(e.data.amount);
        }),
      ],
    });
    await until(() => finished.length === 1);
    const stopping = first.stop();
    await sleep(20);
    release();
    await stopping;
    assert.deepEqual(finished, [1, 2], 'the in-flight event finished; the next one did not start');
    const second = createConsumer({
      transport,
      group: 'g',
      inbox,
      handlers: [handle(Deposited, (e) => void finished.push(e.data.amount))],
    });
    await until(() => finished.length === 3);
    await second.stop();
    assert.deepEqual(finished, [1, 2, 3]);
  });

  it('replays from the beginning when asked to', async () => {
    const transport = createMemoryTransport();
    for (let i = 1; i <= 3; i++) await publish(transport, 'a', i);
    const seen: number[] = [];
    const run = async (replay?: boolean) => {
      const c = createConsumer({
        transport,
        group: 'g',
        inbox: new MemoryInbox(),
        ...(replay ? { replay: { to: 'earliest' as const } } : {}),
        handlers: [handle(Deposited, (e) => void seen.push(e.data.amount))],
      });
      await sleep(150);
      await c.stop();
    };
    await run();
    await run();
    assert.deepEqual(seen, [1, 2, 3], 'a restarted group continues after its committed position');
    await run(true);
    assert.deepEqual(seen, [1, 2, 3, 1, 2, 3]);
  });
});
