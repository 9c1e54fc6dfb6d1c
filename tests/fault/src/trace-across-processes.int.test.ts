import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { firstMessage, forkFixture } from './child.js';
import type { ReportedSpan, SpanReport } from './ipc-tracing.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-trace-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Forks a traced fixture and resolves with the spans it reports when done. */
async function run(name: string, args: readonly string[]): Promise<readonly ReportedSpan[]> {
  const child: ChildProcess = forkFixture(name, args);
  try {
    return (await firstMessage<SpanReport>(child, 20_000)).spans;
  } finally {
    child.kill();
  }
}

function one(
  spans: readonly ReportedSpan[],
  predicate: (s: ReportedSpan) => boolean,
  what: string,
): ReportedSpan {
  const found = spans.filter(predicate);
  assert.equal(found.length, 1, `one ${what} expected, got ${JSON.stringify(spans.map((s) => s.name))}`);
  return found[0]!;
}

describe('tracing across processes', () => {
  it("one trace from a producer's transaction to a consumer's handler", { timeout: 60_000 }, async () => {
    const app = join(dir, 'app.db');
    const bus = join(dir, 'bus.db');
    const producer = await run('traced-producer-process', [app]);
    const [relay, consumer] = await Promise.all([
      run('traced-relay-process', [app, bus, '2']),
      run('traced-consumer-process', [join(dir, 'billing.db'), bus, '2']),
    ]);

    // Producer: the application's span, and under it one create span per appended event.
    const root = one(producer, (s) => s.name === 'place order', 'application span');
    const traceId = root.traceId;
    const creates = producer.filter((s) => s.name === 'create enrollments');
    assert.equal(creates.length, 2);
    for (const c of creates) {
      assert.equal(c.traceId, traceId);
      assert.equal(c.parentSpanId, root.spanId);
      assert.equal(c.kind, SpanKind.PRODUCER);
      assert.equal(c.attributes['messaging.operation.type'], 'create');
    }

    // Relay: its send spans link to both create spans.
    const sends = relay.filter((s) => s.name === 'send enrollments');
    assert.ok(sends.length >= 1, `send spans: ${JSON.stringify(relay.map((s) => s.name))}`);
    const linked = sends.flatMap((s) => s.links);
    for (const c of creates) {
      assert.ok(
        linked.some((l) => l.traceId === traceId && l.spanId === c.spanId),
        `a send span links to create span ${c.spanId}`,
      );
    }
    assert.ok(sends.every((s) => s.kind === SpanKind.PRODUCER));

    // Consumer: each process span is the child of its event's create span; the handler's span nests under it.
    for (const c of creates) {
      const id = c.attributes['messaging.message.id'];
      const processed = one(
        consumer,
        (s) => s.name === 'process enrollments' && s.attributes['messaging.message.id'] === id,
        `process span of ${String(id)}`,
      );
      assert.equal(processed.traceId, traceId);
      assert.equal(processed.parentSpanId, c.spanId);
      assert.equal(processed.kind, SpanKind.CONSUMER);
      assert.equal(processed.attributes['messaging.consumer.group.name'], 'billing');
      assert.equal(processed.attributes['sluice.outcome'], 'applied');
      const handler = one(consumer, (s) => s.parentSpanId === processed.spanId, 'handler span');
      assert.equal(handler.name, 'write invoice');
      assert.equal(handler.traceId, traceId);
    }
  });
});
