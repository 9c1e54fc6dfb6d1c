import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { context, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AlwaysOffSampler } from '@opentelemetry/sdk-trace-base';
import { createConsumer } from '../consumer/consumer.js';
import { handle } from '../consumer/handler.js';
import { createRelay } from '../relay/relay.js';
import { MemoryInbox, MemoryOutbox } from '../testing/memory-stores.js';
import { createMemoryTransport } from '../transport/memory/memory-transport.js';
import { sluiceTracer } from './sluice-tracer.js';
import { registerTestTracing } from './test-tracing.test-support.js';
import { accounts, Deposited, until } from './tracing-fixtures.test-support.js';

const REMOTE = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 };

/** Appends two events, relays them and consumes them; returns the envelopes' traceparents as consumed. */
async function pipeline(append: (outbox: MemoryOutbox) => void): Promise<(string | undefined)[]> {
  const outbox = new MemoryOutbox();
  append(outbox);
  const transport = createMemoryTransport();
  const relay = createRelay({ outbox, transport, topics: [accounts] }).start();
  const inbox = new MemoryInbox();
  const seen: (string | undefined)[] = [];
  const consumer = createConsumer({
    transport,
    group: 'g',
    inbox,
    handlers: [
      handle(Deposited, (e, { tx }: { tx: { effects: string[] } }) => {
        seen.push(e.envelope.traceparent);
        tx.effects.push(e.key);
      }),
    ],
  });
  await until(() => inbox.effects.length === 2);
  await consumer.stop();
  await relay.stop();
  return seen;
}

describe('tracing without an SDK', () => {
  it('no provider, no context manager: events flow, no traceparent is invented, a given one is kept', async () => {
    assert.equal(sluiceTracer(), undefined);
    const given = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const seen = await pipeline((outbox) => {
      outbox.append(Deposited, { accountId: 'a', amount: 1 });
      outbox.append(Deposited, { accountId: 'b', amount: 1 }, { traceparent: given });
    });
    assert.deepEqual(seen.sort(), [given, undefined]);
  });

  it('a context propagated by hand but no SDK: the append carries that context on', async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    try {
      assert.equal(sluiceTracer(), undefined);
      const seen = await pipeline((outbox) => {
        context.with(trace.setSpanContext(ROOT_CONTEXT, { ...REMOTE, isRemote: true }), () => {
          outbox.append(Deposited, { accountId: 'a', amount: 1 });
        });
        outbox.append(Deposited, { accountId: 'b', amount: 1 });
      });
      assert.deepEqual(seen.sort(), [`00-${REMOTE.traceId}-${REMOTE.spanId}-01`, undefined]);
    } finally {
      context.disable();
    }
  });

  it('an SDK that samples nothing: no span is exported, the trace context still flows (not sampled)', async () => {
    const sdk = registerTestTracing(new AlwaysOffSampler());
    try {
      assert.notEqual(sluiceTracer(), undefined);
      const app = trace.getTracer('app');
      const seen = await pipeline((outbox) => {
        for (const accountId of ['a', 'b']) {
          app.startActiveSpan('request', (span) => {
            outbox.append(Deposited, { accountId, amount: 1 });
            span.end();
          });
        }
      });
      assert.equal(sdk.spans().length, 0);
      for (const traceparent of seen) assert.match(String(traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    } finally {
      await sdk.disable();
    }
    assert.equal(sluiceTracer(), undefined);
  });
});
