// Records and runtime: wake-ups, backpressure, headers, CloudEvents, dead letters through createConsumer(), close.
import assert from 'node:assert/strict';
import { createConsumer, encodeEnvelope, handle, type InboxStore, parseDeadLetter } from '@sluice/core';
import { envelopeOf, fromBinary, prepareEvent, toBinary } from '@sluice/core/adapter';
import { checkRecordsAreCloudEvents } from './cloudevents-conformance.js';
import { EnrollmentProgressed } from './progress-contract.js';

import {
  assertQuiet,
  assertRejects,
  at,
  drain,
  publishMany,
  rec,
  type SuiteContext,
  sleep,
} from './transport-conformance-kit.js';

/** Records and runtime: wake-ups, backpressure, headers, CloudEvents, dead letters through createConsumer(), close. */
export function recordsCases(s: SuiteContext): void {
  const { options, wakeLatencyMs, test, ensure } = s;
  test('a waiting poll returns promptly after a publish, on timeout and on abort', async ({ t }) => {
    await ensure(t, 'wake', 'event', 4);
    const sub = await t.subscribe({ group: 'g', topics: ['wake'] });
    await sub.poll({ maxRecords: 1, maxWaitMs: 0 });
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const waiting = sub.poll({ maxRecords: 10, maxWaitMs: 5000 });
      await sleep(30);
      const start = performance.now();
      await t.publish([rec('wake', `k${i}`, 'v')]);
      const got = await waiting;
      latencies.push(performance.now() - start);
      assert.equal(got.length, 1);
    }
    // The median, not the worst: a first wake-up may include a one-time start (librdkafka looks up a newly
    // assigned partition's start offset, OffsetFetch then ListOffsets, only after the assignment: ~80 ms),
    // and a loaded machine delays single ones. `npm run bench -- transports` reports the percentiles.
    const median = [...latencies].sort((a, b) => a - b)[Math.floor(latencies.length / 2)]!;
    assert.ok(median < wakeLatencyMs, `poll woke ${latencies.map((l) => l.toFixed(1))} ms after publish`);
    let start = performance.now();
    assert.deepEqual(await sub.poll({ maxRecords: 10, maxWaitMs: 200 }), []);
    assert.ok(performance.now() - start >= 190, 'waits maxWaitMs when nothing arrives');
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 50);
    start = performance.now();
    assert.deepEqual(await sub.poll({ maxRecords: 10, maxWaitMs: 10_000, signal: abort.signal }), []);
    assert.ok(performance.now() - start < 1000, 'abort ends the wait');
  });

  test('backpressure: never more than maxRecords, nothing buffered for a member that does not poll', async ({
    t,
  }) => {
    await ensure(t, 'bulk', 'event', 3);
    await publishMany(t, 'bulk', 250, 'v');
    const sub = await t.subscribe({ group: 'g', topics: ['bulk'] });
    assert.equal((await sub.poll({ maxRecords: 10, maxWaitMs: 1000 })).length, 10);
    const rest = await drain(sub, (all) => all.length >= 240, 5000, 7);
    assert.equal(rest.length, 240);
    // A member that stopped polling must not hold records fetched earlier: on an entity topic, values
    // replaced while it was idle are never delivered to it.
    await ensure(t, 'state', 'entity', 2);
    const idle = await t.subscribe({ group: 'g2', topics: ['state'] });
    assert.deepEqual(await idle.poll({ maxRecords: 100, maxWaitMs: 0 }), []);
    for (let i = 0; i < 50; i++) await t.publish([rec('state', 'k', `v${i}`)]);
    await sleep(50);
    const got = await drain(idle, (all) => all.length >= 1);
    await assertQuiet(idle);
    assert.deepEqual(
      got.map((r) => r.value),
      ['v49'],
    );
  });

  test('headers round-trip; records without headers have none', async ({ t }) => {
    await ensure(t, 'headers', 'event', 1);
    const headers = { 'x-reason': 'handler failed: ünïcode ✓', attempts: '3', empty: '' };
    await t.publish([
      rec('headers', 'a', 'v', headers),
      rec('headers', 'a', 'w'),
      rec('headers', 'a', 'x', {}),
    ]);
    const got = await t.read('headers', { to: 'earliest' }, 10);
    assert.deepEqual(
      got.map((r) => ({ ...r.headers })),
      [headers, {}, {}],
    );
    const sub = await t.subscribe({ group: 'g', topics: ['headers'] });
    assert.deepEqual({ ...(await drain(sub, (all) => all.length >= 3))[0]!.headers }, headers);
  });

  test('CloudEvents binary mode (Kafka binding headers) round-trips: attributes in headers, data in the body', async ({
    t,
  }) => {
    await t.ensureTopic(EnrollmentProgressed.topic);
    const event = prepareEvent(EnrollmentProgressed, {
      enrollmentId: '0190a5c2-7a1e-7000-8000-00000000000e',
      progress: 42,
    });
    const envelope = envelopeOf(event, 'urn:service:enrollments', 7, {
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    });
    const { headers, body } = toBinary(envelope, 'ce_');
    await t.publish([
      {
        topic: EnrollmentProgressed.topic.name,
        key: envelope.subject,
        value: body,
        id: envelope.id,
        headers,
      },
    ]);
    const [got] = await t.read(EnrollmentProgressed.topic.name, { to: 'earliest' }, 10);
    assert.ok(got, 'the record was not stored');
    assert.equal(got.key, envelope.subject);
    assert.deepEqual(fromBinary(got.headers, got.value!, 'ce_'), envelope);
  });

  test('every record on the broker is a CloudEvent the official SDK reads (binding or documented layout)', async ({
    h,
    t,
    skip,
  }) => {
    if (h.readRaw === undefined) return skip('the harness gives no readRaw');
    await checkRecordsAreCloudEvents(t, h.readRaw);
  });

  test('a consumer dead-letters an event its handler keeps failing on; other keys flow on', async ({ t }) => {
    await t.ensureTopic(EnrollmentProgressed.topic);
    const keys = ['0190a5c2-7a1e-7000-8000-0000000000a1', '0190a5c2-7a1e-7000-8000-0000000000b2'];
    const envelopes = keys.map((enrollmentId, i) =>
      envelopeOf(prepareEvent(EnrollmentProgressed, { enrollmentId, progress: i }), 'urn:test', 1),
    );
    await t.publish(
      envelopes.map((e) => ({
        topic: EnrollmentProgressed.topic.name,
        key: e.subject,
        value: encodeEnvelope(e),
        id: e.id,
      })),
    );
    const applied = new Set<string>();
    const inbox: InboxStore<undefined> = {
      name: 'conformance',
      async runOnce(_group, id, apply) {
        if (applied.has(id)) return 'duplicate';
        await apply(undefined);
        applied.add(id);
        return 'applied';
      },
      // Keeps no chains (it ignores `chain`): this test is not about gaps.
      async passChain() {
        return 'passed' as const;
      },
      async startGroup() {
        return false;
      },
      async close() {},
    };
    let deadLettered = 0;
    const consumer = createConsumer({
      transport: t,
      group: 'g',
      inbox,
      maxAttempts: 2,
      backoff: { initialMs: 10, maxMs: 20 },
      handlers: [
        handle(EnrollmentProgressed, (e) => {
          if (e.key === keys[0]) throw new Error('cannot apply this one');
        }),
      ],
      onOutcome: (o) => {
        if (o.kind === 'dead-lettered') deadLettered++;
      },
    });
    const deadline = Date.now() + 10_000;
    while ((deadLettered < 1 || applied.size < 1) && Date.now() < deadline) await sleep(20);
    await consumer.stop();
    assert.deepEqual([...applied], [envelopes[1]!.id], 'the healthy key was applied');
    const dlq = await t.read('g.dlq', { to: 'earliest' }, 10);
    assert.equal(dlq.length, 1, 'one dead letter');
    const letter = parseDeadLetter(dlq[0]!);
    assert.equal(letter.eventId, envelopes[0]!.id);
    assert.equal(letter.attempts, 2);
    assert.match(letter.error.message, /cannot apply this one/);
    assert.equal(letter.original.topic, EnrollmentProgressed.topic.name);
    assert.equal(dlq[0]!.value, encodeEnvelope(envelopes[0]!), 'the original envelope, byte for byte');
  });

  test('after close every call fails with SLUICE_CLOSED; close is idempotent', async ({ t }) => {
    await ensure(t, 'closing', 'event', 1);
    const sub = await t.subscribe({ group: 'g', topics: ['closing'] });
    const waiting = sub.poll({ maxRecords: 1, maxWaitMs: 10_000 });
    await sleep(20);
    await t.close();
    await t.close();
    assert.deepEqual(await waiting, [], 'a waiting poll returns when the transport closes');
    await assertRejects(t.publish([rec('closing', 'a', 'v')]), 'SLUICE_CLOSED');
    await assertRejects(t.ensureTopic({ name: 'x', kind: 'event', partitions: 1 }), 'SLUICE_CLOSED');
    await assertRejects(t.subscribe({ group: 'g', topics: ['closing'] }), 'SLUICE_CLOSED');
    await assertRejects(t.read('closing', { to: 'earliest' }, 1), 'SLUICE_CLOSED');
    await assertRejects(sub.poll({ maxRecords: 1, maxWaitMs: 0 }), 'SLUICE_CLOSED');
  });

  if (options.durable !== false)
    test('everything acknowledged before close is there after reopening', async (ctx) => {
      const { h, t } = ctx;
      assert.ok(h.reopen, 'a durable transport must give reopen() to the suite');
      await ensure(t, 'durable', 'event', 3);
      await ensure(t, 'latest', 'entity', 2);
      const acks = await t.publish(
        Array.from({ length: 30 }, (_, i) =>
          rec('durable', `k${i % 9}`, `v${i}`, i % 2 ? { i: String(i) } : undefined),
        ),
      );
      await t.publish([rec('latest', 'a', '1'), rec('latest', 'a', '2'), rec('latest', 'b', null)]);
      const before = await t.read('durable', { to: 'earliest' }, 100);
      const sub = await t.subscribe({ group: 'g', topics: ['durable'] });
      const firstTen = await drain(sub, (all) => all.length >= 10, 5000, 10);
      await sub.commit(firstTen);
      await t.close();
      const again = await h.reopen();
      ctx.opened.push(again);
      assert.deepEqual(await again.read('durable', { to: 'earliest' }, 100), before);
      assert.deepEqual(
        (await again.read('latest', { to: 'earliest' }, 100)).map((r) => [r.key, r.value]).sort(),
        [
          ['a', '2'],
          ['b', null],
        ],
      );
      const resumed = await again.subscribe({ group: 'g', topics: ['durable'] });
      const rest = await drain(resumed, (all) => all.length >= 20);
      await assertQuiet(resumed);
      const done = new Set(firstTen.map(at));
      assert.deepEqual(
        rest.map(at).sort(),
        acks
          .map(at)
          .filter((p) => !done.has(p))
          .sort(),
      );
      const [next] = await again.publish([rec('durable', 'k2', 'after')]);
      const maxBefore = acks.filter((a) => a.partition === next!.partition).map((a) => BigInt(a.offset));
      assert.ok(
        maxBefore.every((o) => BigInt(next!.offset) > o),
        'offsets are never reused',
      );
    });
}
