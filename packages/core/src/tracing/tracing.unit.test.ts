import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, beforeEach, describe, it } from 'node:test';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { createConsumer } from '../consumer/consumer.js';
import { handle } from '../consumer/handler.js';
import { decodeEnvelope } from '../envelope/codec.js';
import { createRelay } from '../relay/relay.js';
import { MemoryInbox, MemoryOutbox } from '../testing/memory-stores.js';
import { createMemoryTransport } from '../transport/memory/memory-transport.js';
import { MAX_SEND_LINKS } from './send-span.js';
import { registerTestTracing } from './test-tracing.test-support.js';
import { accounts, Booked, Deposited, ledger, until } from './tracing-fixtures.test-support.js';

const sdk = registerTestTracing();
after(() => sdk.disable());
beforeEach(() => sdk.exporter.reset());
const app = trace.getTracer('app');

/** Appends inside an application span named `name`, as a request handler would. */
function appendInSpan(outbox: MemoryOutbox, accountId: string, name = 'place order') {
  return app.startActiveSpan(name, (span) => {
    try {
      return outbox.append(Deposited, { accountId, amount: 1 });
    } finally {
      span.end();
    }
  });
}

describe('tracing', () => {
  it('append: a "create <topic>" span under the caller span, its traceparent in the envelope', () => {
    const row = appendInSpan(new MemoryOutbox(), 'a1');
    const caller = sdk.span('place order');
    const create = sdk.span('create accounts');
    assert.equal(create.spanContext().traceId, caller.spanContext().traceId);
    assert.equal(create.parentSpanContext?.spanId, caller.spanContext().spanId);
    assert.equal(create.kind, SpanKind.PRODUCER);
    assert.equal(create.instrumentationScope.name, '@sluice/core');
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    assert.equal(create.instrumentationScope.version, pkg.version, 'TRACER_VERSION follows package.json');
    assert.deepEqual(create.attributes, {
      'messaging.system': 'sluice',
      'messaging.destination.name': 'accounts',
      'messaging.operation.type': 'create',
      'messaging.operation.name': 'append',
      'messaging.message.id': row.id,
      'sluice.event.type': 'account.deposited',
      'sluice.key': 'a1',
    });
    const { traceId, spanId } = create.spanContext();
    assert.equal(decodeEnvelope(row.value).traceparent, `00-${traceId}-${spanId}-01`);
  });

  it('append: no span and no traceparent outside a span; a traceparent the caller passes is kept', () => {
    const outbox = new MemoryOutbox();
    const plain = outbox.append(Deposited, { accountId: 'a1', amount: 1 });
    assert.equal(decodeEnvelope(plain.value).traceparent, undefined);
    const given = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const passed = app.startActiveSpan('caller', (span) => {
      const row = outbox.append(Deposited, { accountId: 'a1', amount: 2 }, { traceparent: given });
      span.end();
      return row;
    });
    assert.equal(decodeEnvelope(passed.value).traceparent, given);
    assert.deepEqual(
      sdk.spans().map((s) => s.name),
      ['caller'],
    );
  });

  it('relay: one "send <topic>" span per batch, linked to the append spans it carries', async () => {
    const outbox = new MemoryOutbox();
    for (let i = 0; i < 3; i++) appendInSpan(outbox, `k${i}`);
    outbox.append(Deposited, { accountId: 'untraced', amount: 1 });
    const creates = sdk.spans('create accounts').map((s) => s.spanContext().spanId);
    const transport = createMemoryTransport();
    const relay = createRelay({ outbox, transport, topics: [accounts] }).start();
    await until(() => outbox.rows.length === 0);
    await relay.stop();
    const send = sdk.span('send accounts');
    assert.equal(send.kind, SpanKind.PRODUCER);
    assert.deepEqual(send.attributes, {
      'messaging.system': 'sluice',
      'messaging.destination.name': 'accounts',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'publish',
      'messaging.batch.message_count': 4,
    });
    assert.deepEqual(
      send.links.map((l) => l.context.spanId),
      creates,
    );
    assert.ok(send.links.every((l) => l.context.isRemote));
  });

  it(`relay: at most ${MAX_SEND_LINKS} links on a send span`, async () => {
    const outbox = new MemoryOutbox();
    for (let i = 0; i < MAX_SEND_LINKS + 5; i++) appendInSpan(outbox, `k${i}`);
    const relay = createRelay({
      outbox,
      transport: createMemoryTransport(),
      topics: [accounts],
      batchSize: 500,
    }).start();
    await until(() => outbox.rows.length === 0);
    await relay.stop();
    const send = sdk.span('send accounts');
    assert.equal(send.attributes['messaging.batch.message_count'], MAX_SEND_LINKS + 5);
    assert.equal(send.links.length, MAX_SEND_LINKS);
  });

  it('relay: a batch of several topics is one span named "send", without a destination', async () => {
    const outbox = new MemoryOutbox();
    appendInSpan(outbox, 'a1');
    app.startActiveSpan('book', (span) => {
      outbox.append(Booked, { accountId: 'a1' });
      span.end();
    });
    const relay = createRelay({
      outbox,
      transport: createMemoryTransport(),
      topics: [accounts, ledger],
    }).start();
    await until(() => outbox.rows.length === 0);
    await relay.stop();
    const send = sdk.span('send');
    assert.equal(send.attributes['messaging.destination.name'], undefined);
    assert.equal(send.attributes['messaging.batch.message_count'], 2);
    assert.deepEqual(
      send.links.map((l) => l.context.spanId),
      [sdk.span('create accounts'), sdk.span('create ledger')].map((s) => s.spanContext().spanId),
    );
  });

  it('consumer: no process span for an event whose producer trace is not sampled (parent-based sampling)', async () => {
    const outbox = new MemoryOutbox();
    const traceId = 'c0ffee00c0ffee00c0ffee00c0ffee00';
    outbox.append(
      Deposited,
      { accountId: 'u1', amount: 1 },
      { traceparent: `00-${traceId}-00f067aa0ba902b7-00` },
    );
    outbox.append(
      Deposited,
      { accountId: 's1', amount: 1 },
      { traceparent: `00-${traceId}-00f067aa0ba902b8-01` },
    );
    const transport = createMemoryTransport();
    const relay = createRelay({ outbox, transport, topics: [accounts] }).start();
    const inbox = new MemoryInbox();
    const consumer = createConsumer({
      transport,
      group: 'billing',
      inbox,
      handlers: [
        handle(Deposited, (e, { tx }: { tx: { effects: string[] } }) => void tx.effects.push(e.key)),
      ],
    });
    await until(() => inbox.effects.length === 2);
    await consumer.stop();
    await relay.stop();
    const processed = sdk.spans('process accounts');
    assert.deepEqual(
      processed.map((s) => s.attributes['sluice.key']),
      ['s1'],
      'only the sampled producer trace gets a process span',
    );
  });

  it('consumer: "process <topic>" continues the producer trace, and the handler span nests under it', async () => {
    const outbox = new MemoryOutbox();
    const row = appendInSpan(outbox, 'a1');
    const transport = createMemoryTransport();
    const relay = createRelay({ outbox, transport, topics: [accounts] }).start();
    const inbox = new MemoryInbox();
    const consumer = createConsumer({
      transport,
      group: 'billing',
      inbox,
      handlers: [
        handle(Deposited, (e, { tx }: { tx: { effects: string[] } }) => {
          app.startActiveSpan('charge card', (span) => {
            tx.effects.push(e.key);
            span.end();
          });
        }),
      ],
    });
    await until(() => inbox.effects.length === 1);
    await consumer.stop();
    await relay.stop();
    const caller = sdk.span('place order');
    const create = sdk.span('create accounts');
    const processed = sdk.span('process accounts');
    const charge = sdk.span('charge card');
    const traceId = caller.spanContext().traceId;
    for (const s of [create, processed, charge]) assert.equal(s.spanContext().traceId, traceId, s.name);
    assert.equal(processed.parentSpanContext?.spanId, create.spanContext().spanId);
    assert.equal(charge.parentSpanContext?.spanId, processed.spanContext().spanId);
    assert.equal(processed.kind, SpanKind.CONSUMER);
    const attributes = { ...processed.attributes };
    assert.match(String(attributes['messaging.destination.partition.id']), /^[01]$/);
    assert.equal(typeof attributes['sluice.offset'], 'string');
    delete attributes['messaging.destination.partition.id'];
    delete attributes['sluice.offset'];
    assert.deepEqual(attributes, {
      'messaging.system': 'sluice',
      'messaging.destination.name': 'accounts',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'handle',
      'messaging.consumer.group.name': 'billing',
      'messaging.message.id': row.id,
      'sluice.event.type': 'account.deposited',
      'sluice.key': 'a1',
      'sluice.attempt': 1,
      'sluice.outcome': 'applied',
    });
  });

  it('consumer: a failing handler marks its span ERROR; outcomes retried, dead-lettered, duplicate', async () => {
    const outbox = new MemoryOutbox();
    const bad = appendInSpan(outbox, 'bad');
    const good = appendInSpan(outbox, 'good');
    const transport = createMemoryTransport();
    const relay = createRelay({ outbox, transport, topics: [accounts] }).start();
    await until(() => outbox.rows.length === 0);
    await relay.stop();
    // The good event once more: the inbox skips it.
    await transport.publish([{ topic: accounts.name, key: good.key, value: good.value, id: good.id }]);
    const inbox = new MemoryInbox();
    const consumer = createConsumer({
      transport,
      group: 'billing',
      inbox,
      maxAttempts: 2,
      backoff: { initialMs: 1, maxMs: 2 },
      handlers: [
        handle(Deposited, (e, { tx }: { tx: { effects: string[] } }) => {
          if (e.key === 'bad') throw new Error('card declined');
          tx.effects.push(e.key);
        }),
      ],
    });
    await until(() => consumer.stats().deadLettered === 1 && consumer.stats().duplicates === 1);
    await consumer.stop();
    const outcomes = (id: string) =>
      sdk
        .spans('process accounts')
        .filter((s) => s.attributes['messaging.message.id'] === id)
        .map((s) => [s.attributes['sluice.attempt'], s.attributes['sluice.outcome'], s.status.code]);
    assert.deepEqual(outcomes(bad.id), [
      [1, 'retried', SpanStatusCode.ERROR],
      [2, 'dead-lettered', SpanStatusCode.ERROR],
    ]);
    assert.deepEqual(outcomes(good.id), [
      [1, 'applied', SpanStatusCode.UNSET],
      [1, 'duplicate', SpanStatusCode.UNSET],
    ]);
    const failed = sdk.spans('process accounts').find((s) => s.status.code === SpanStatusCode.ERROR)!;
    assert.equal(failed.status.message, 'card declined');
    assert.equal(failed.attributes['error.type'], 'Error');
    assert.equal(failed.events[0]?.name, 'exception');
  });

  it('consumer: an event without a traceparent starts a new trace', async () => {
    const outbox = new MemoryOutbox();
    outbox.append(Deposited, { accountId: 'a1', amount: 1 });
    const transport = createMemoryTransport();
    const relay = createRelay({ outbox, transport, topics: [accounts] }).start();
    const inbox = new MemoryInbox();
    const consumer = app.startActiveSpan('ambient', (span) => {
      // Started inside an application span: process spans must not become its children.
      const c = createConsumer({
        transport,
        group: 'g',
        inbox,
        handlers: [handle(Deposited, (e, { tx }: { tx: { effects: string[] } }) => tx.effects.push(e.key))],
      });
      span.end();
      return c;
    });
    await until(() => inbox.effects.length === 1);
    await consumer.stop();
    await relay.stop();
    assert.equal(sdk.span('process accounts').parentSpanContext, undefined);
  });
});
