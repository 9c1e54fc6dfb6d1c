import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defineEvent } from '../contracts/define-event.js';
import { defineKey } from '../contracts/define-key.js';
import { defineTopic, type TopicKind } from '../contracts/define-topic.js';
import { encodeEnvelope } from '../envelope/codec.js';
import type { SequenceKind } from '../envelope/envelope.js';
import { InvalidOptionError } from '../errors.js';
import { envelopeOf, prepareEvent } from '../outbox/prepare-event.js';
import { chainOf } from '../outbox/sequence-gate.js';
import { MemoryInbox } from '../testing/memory-stores.js';
import { createMemoryTransport } from '../transport/memory/memory-transport.js';
import type { Transport } from '../transport/transport.js';
import type { Logger } from '../util/logger.js';
import { sleep } from '../util/sleep.js';
import { createConsumer } from './consumer.js';
import type { ConsumeOptions, ConsumeOutcome } from './consumer-options.js';
import { parseDeadLetter, redriveRecord } from './dead-letter.js';
import { handle } from './handler.js';

const AccountId = defineKey('accountId', z.string().min(1), { description: 'an account' });
const SOURCE = 'urn:test:gaps';

function contracts(kind: TopicKind, name: string) {
  const topic = defineTopic({ name, kind, partitions: 1 });
  const schema = z.object({ accountId: z.string().min(1), amount: z.int() });
  const deposited = defineEvent({
    type: 'account.deposited',
    version: 1,
    key: AccountId,
    topic,
    description: 'money in',
    schema,
  });
  const noted = defineEvent({
    type: 'account.noted',
    version: 1,
    key: AccountId,
    topic,
    description: 'a note no handler here takes',
    schema,
  });
  return { topic, deposited, noted };
}

type Contracts = ReturnType<typeof contracts>;

/** Publishes an event of `key` with the given sequence (its amount is the sequence, to read it back). */
async function publish(
  transport: Transport,
  c: Contracts,
  key: string,
  sequence: number,
  options: { kind?: SequenceKind; noted?: boolean } = {},
): Promise<void> {
  await transport.ensureTopic(c.topic);
  const p = prepareEvent(options.noted ? c.noted : c.deposited, { accountId: key, amount: sequence });
  const envelope = { ...envelopeOf(p, SOURCE, sequence), sluiceseqkind: options.kind ?? 'counter' };
  await transport.publish([{ topic: c.topic.name, key, value: encodeEnvelope(envelope), id: envelope.id }]);
}

async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

/** A logger that keeps warn and error lines. */
function capture(): Logger & {
  lines: { level: string; message: string; fields: Record<string, unknown> }[];
} {
  const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  const keep =
    (level: string) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      void lines.push({ level, message, fields });
  return { lines, debug() {}, info() {}, warn: keep('warn'), error: keep('error') };
}

/** Starts a consumer recording `key:sequence` of what it applied and every outcome. */
function run(
  transport: Transport,
  c: Contracts,
  inbox: MemoryInbox,
  extra: Partial<ConsumeOptions<{ effects: string[] }>> = {},
) {
  const applied: string[] = [];
  const outcomes: ConsumeOutcome[] = [];
  const logger = capture();
  const consumer = createConsumer({
    transport,
    group: 'g',
    inbox,
    backoff: { initialMs: 2, maxMs: 10 },
    commitIntervalMs: 5,
    logger,
    onOutcome: (o) => void outcomes.push(o),
    handlers: [handle(c.deposited, (e) => void applied.push(`${e.key}:${e.sequence}`))],
    ...extra,
  });
  const gaps = () => outcomes.filter((o) => o.kind === 'gap');
  return { consumer, applied, outcomes, gaps, logger };
}

describe('consumer: gaps and order', () => {
  it('holds a counter gap (3 lost, 4 arrived) at the head of its key; other keys flow on; positions stop before it', async () => {
    const transport = createMemoryTransport();
    const c = contracts('event', 'gaps-held');
    const inbox = new MemoryInbox();
    // One partition: a1 a2 b1 a4 b2 a5 b3 (offsets 0..6); a3 never reached the bus.
    for (const [k, s] of [
      ['a', 1],
      ['a', 2],
      ['b', 1],
      ['a', 4],
      ['b', 2],
      ['a', 5],
      ['b', 3],
    ] as const) {
      await publish(transport, c, k, s);
    }
    const first = run(transport, c, inbox);
    await until(() => first.applied.length === 5);
    await sleep(150); // many re-checks with 2..10 ms backoff
    assert.deepEqual(
      first.applied.toSorted(),
      ['a:1', 'a:2', 'b:1', 'b:2', 'b:3'],
      'a:4 and a:5 wait; b flows on',
    );
    const stats = first.consumer.stats();
    assert.equal(stats.gaps, 1, 'the gap is counted once, not per re-check');
    assert.equal(stats.heldKeys, 1);
    const [gap, ...more] = first.gaps();
    assert.equal(more.length, 0, 'one gap outcome, not one per re-check');
    assert.ok(gap?.kind === 'gap');
    assert.deepEqual(
      {
        key: gap.key,
        problem: gap.problem,
        expected: gap.expected,
        received: gap.received,
        action: gap.action,
        offset: gap.record.offset,
      },
      { key: 'a', problem: 'gap', expected: 3, received: 4, action: 'held', offset: '3' },
    );
    const alerts = first.logger.lines.filter((l) => l.level === 'error' || l.level === 'warn');
    assert.equal(alerts.length, 1, `one alert line while held, got ${JSON.stringify(alerts)}`);
    assert.match(
      alerts[0]!.message,
      /sequence gap: expected 3, received 4 on gaps-held partition 0 offset 3 key a/,
    );
    assert.deepEqual(
      { ...alerts[0]!.fields, id: undefined },
      {
        group: 'g',
        topic: 'gaps-held',
        partition: 0,
        offset: '3',
        key: 'a',
        source: SOURCE,
        id: undefined,
        problem: 'gap',
        expected: 3,
        received: 4,
        policy: 'hold',
      },
    );
    assert.equal(inbox.chains.get('g')?.get(chainOf(SOURCE, 'gaps-held', 'a')), 2, 'the chain stays at 2');
    await first.consumer.stop();

    // The committed position stops before a:4: the next member of the group is handed a:4 again (here it
    // continues past the gap) and b:2, b:3 once more (duplicates to the inbox).
    const second = run(transport, c, inbox, { onGap: 'continue' });
    await until(() => second.applied.length === 2);
    await second.consumer.stop();
    const delivered = second.outcomes.map((o) =>
      o.kind === 'applied' || o.kind === 'duplicate'
        ? `${o.kind} ${o.event.key}:${o.event.sequence}@${o.event.offset}`
        : o.kind,
    );
    assert.deepEqual(delivered, [
      'gap',
      'applied a:4@3',
      'duplicate b:2@4',
      'applied a:5@5',
      'duplicate b:3@6',
    ]);
  });

  it('onGap continue reports the gap (log, counter, outcome) and applies, moving the chain on', async () => {
    const transport = createMemoryTransport();
    const c = contracts('event', 'gaps-continue');
    const inbox = new MemoryInbox();
    for (const s of [1, 2, 4, 5]) await publish(transport, c, 'a', s);
    const r = run(transport, c, inbox, { onGap: 'continue' });
    await until(() => r.applied.length === 4);
    await r.consumer.stop();
    assert.deepEqual(r.applied, ['a:1', 'a:2', 'a:4', 'a:5']);
    assert.equal(r.consumer.stats().gaps, 1);
    assert.equal(r.consumer.stats().heldKeys, 0);
    const gap = r.gaps()[0];
    assert.ok(gap?.kind === 'gap');
    assert.deepEqual([gap.expected, gap.received, gap.action], [3, 4, 'continued']);
    assert.equal(r.logger.lines.filter((l) => l.level === 'error').length, 1);
    assert.match(r.logger.lines[0]!.message, /expected 3, received 4 .*onGap: continue/);
    assert.equal(inbox.chains.get('g')?.get(chainOf(SOURCE, 'gaps-continue', 'a')), 5);
  });

  it('counter: a new event at or below the last applied is out of order and held (one by one, runOnce)', async () => {
    const transport = createMemoryTransport();
    const c = contracts('event', 'gaps-counter-order');
    const inbox = new MemoryInbox();
    for (const s of [1, 2, 2]) await publish(transport, c, 'a', s);
    const r = run(transport, c, inbox, { maxBatch: 1 }); // runOnce, not runBatch
    await until(() => r.gaps().length === 1);
    await r.consumer.stop();
    assert.deepEqual(r.applied, ['a:1', 'a:2']);
    const gap = r.gaps()[0];
    assert.ok(gap?.kind === 'gap');
    assert.deepEqual([gap.problem, gap.expected, gap.received, gap.action], ['out-of-order', 3, 2, 'held']);
  });

  it('position: only order is checked (skips and equal positions apply); a lower one is held', async () => {
    const transport = createMemoryTransport();
    const c = contracts('event', 'gaps-position');
    const inbox = new MemoryInbox();
    for (const s of [100, 100, 250, 180, 300]) await publish(transport, c, 'a', s, { kind: 'position' });
    const r = run(transport, c, inbox);
    await until(() => r.gaps().length === 1 && r.applied.length === 3);
    await sleep(30);
    await r.consumer.stop();
    assert.deepEqual(r.applied, ['a:100', 'a:100', 'a:250'], '180 is held, 300 waits behind it');
    const gap = r.gaps()[0];
    assert.ok(gap?.kind === 'gap');
    assert.deepEqual([gap.problem, gap.expected, gap.received], ['out-of-order', 250, 180]);
    assert.equal(inbox.chains.get('g')?.get(chainOf(SOURCE, 'gaps-position', 'a')), 250);
  });

  it('first seen: a new group reading an event topic from earliest expects a counter chain to start at 1', async () => {
    const transport = createMemoryTransport();
    const c = contracts('event', 'gaps-first-event');
    const inbox = new MemoryInbox();
    // The Kafka loss: sequence 1 of `a` was acknowledged but never stored; 2 arrived first.
    await publish(transport, c, 'a', 2);
    await publish(transport, c, 'b', 1);
    await publish(transport, c, 'p', 7, { kind: 'position' });
    const r = run(transport, c, inbox);
    await until(() => r.applied.length === 2 && r.gaps().length === 1);
    await r.consumer.stop();
    assert.deepEqual(r.applied, ['b:1', 'p:7'], 'a position chain starts anywhere');
    const gap = r.gaps()[0];
    assert.ok(gap?.kind === 'gap');
    assert.deepEqual([gap.key, gap.expected, gap.received], ['a', 1, 2]);
  });

  for (const kind of ['message', 'entity'] as const) {
    it(`first seen: on a ${kind} topic a counter chain starts wherever it is first seen`, async () => {
      const transport = createMemoryTransport();
      const c = contracts(kind, `gaps-first-${kind}`);
      // A message topic's retention or an entity topic's compaction removed what came before.
      await publish(transport, c, 'a', 5);
      await publish(transport, c, 'b', 9);
      const r = run(transport, c, new MemoryInbox());
      await until(() => r.applied.length === 2);
      await r.consumer.stop();
      assert.deepEqual(r.applied.toSorted(), ['a:5', 'b:9']);
      assert.equal(r.gaps().length, 0);
    });
  }

  it('first seen: a group starting at the latest offset, replaying, or upgraded with applied events is not flagged', async () => {
    const transport = createMemoryTransport();
    const c = contracts('event', 'gaps-first-other');
    await publish(transport, c, 'a', 1);
    await publish(transport, c, 'a', 2);

    // startFrom latest: reads only what is published after it joined.
    const latest = run(transport, c, new MemoryInbox(), { startFrom: 'latest', group: 'latest' });
    await sleep(30);
    await publish(transport, c, 'a', 3);
    await until(() => latest.applied.length === 1);
    await latest.consumer.stop();
    assert.deepEqual(latest.applied, ['a:3']);

    // A replay to a position in the middle of the topic.
    const replay = run(transport, c, new MemoryInbox(), {
      group: 'replay',
      replay: { to: 'offset', partition: 0, offset: '1' },
    });
    await until(() => replay.applied.length === 2);
    await replay.consumer.stop();
    assert.deepEqual(replay.applied, ['a:2', 'a:3']);

    // A group whose inbox already holds applied events from a Sluice that kept no chains.
    const upgraded = new MemoryInbox();
    upgraded.applied.set('upgraded', new Set(['an-event-applied-before']));
    const old = run(transport, c, upgraded, { group: 'upgraded' });
    await until(() => old.applied.length === 3);
    await old.consumer.stop();
    for (const r of [latest, replay, old]) assert.equal(r.gaps().length, 0);
  });

  it('the missing event re-published later is applied first, then the held one and the rest', async () => {
    const transport = createMemoryTransport();
    const c = contracts('event', 'gaps-republished');
    const inbox = new MemoryInbox();
    for (const s of [1, 2, 4, 5]) await publish(transport, c, 'a', s);
    const r = run(transport, c, inbox);
    await until(() => r.consumer.stats().heldKeys === 1);
    await publish(transport, c, 'a', 3); // an operator re-publishes the lost event
    await until(() => r.applied.length === 5);
    await sleep(20);
    await r.consumer.stop();
    assert.deepEqual(r.applied, ['a:1', 'a:2', 'a:3', 'a:4', 'a:5']);
    assert.equal(r.consumer.stats().heldKeys, 0);
    assert.equal(inbox.chains.get('g')?.get(chainOf(SOURCE, 'gaps-republished', 'a')), 5);
  });

  it('events of a type the consumer skips still count in their chain (no false gap)', async () => {
    const transport = createMemoryTransport();
    const c = contracts('event', 'gaps-skipped');
    await publish(transport, c, 'a', 1);
    await publish(transport, c, 'a', 2, { noted: true });
    await publish(transport, c, 'a', 3);
    const r = run(transport, c, new MemoryInbox());
    await until(() => r.applied.length === 2);
    await r.consumer.stop();
    assert.deepEqual(r.applied, ['a:1', 'a:3']);
    assert.equal(r.gaps().length, 0);
  });

  it('a dead-lettered event moves its chain on; redriven later, it applies without a gap or order alarm', async () => {
    const transport = createMemoryTransport();
    const c = contracts('event', 'gaps-redrive');
    for (const s of [1, 2, 3]) await publish(transport, c, 'a', s);
    let broken = true;
    const applied: string[] = [];
    const outcomes: ConsumeOutcome[] = [];
    const consumer = createConsumer({
      transport,
      group: 'g',
      inbox: new MemoryInbox(),
      maxAttempts: 2,
      backoff: { initialMs: 1, maxMs: 2 },
      onOutcome: (o) => void outcomes.push(o),
      handlers: [
        handle(c.deposited, (e) => {
          if (broken && e.sequence === 2) throw new Error('a bug');
          applied.push(`${e.key}:${e.sequence}`);
        }),
      ],
    });
    await until(() => applied.length === 2);
    assert.deepEqual(applied, ['a:1', 'a:3'], '2 dead-lettered; 3 follows it');
    broken = false;
    const [letter] = await transport.read('g.dlq', { to: 'earliest' }, 10);
    assert.ok(letter);
    await transport.publish([redriveRecord(parseDeadLetter(letter), letter.headers)]);
    await until(() => applied.length === 3);
    await consumer.stop();
    assert.deepEqual(applied, ['a:1', 'a:3', 'a:2']);
    assert.deepEqual(
      outcomes.filter((o) => o.kind === 'gap'),
      [],
    );
    assert.equal(consumer.stats().heldKeys, 0);
  });

  it('a replay tries a dead-lettered event again without an order alarm; a gap is still held', async () => {
    const transport = createMemoryTransport();
    const c = contracts('event', 'gaps-replay');
    const inbox = new MemoryInbox();
    for (const s of [1, 2, 3]) await publish(transport, c, 'a', s);
    const failing = { sequence: 2 };
    const applied: string[] = [];
    const start = (replay: boolean) => {
      const outcomes: ConsumeOutcome[] = [];
      const consumer = createConsumer({
        transport,
        group: 'g',
        inbox,
        maxAttempts: 1,
        backoff: { initialMs: 1, maxMs: 2 },
        ...(replay ? { replay: { to: 'earliest' as const } } : {}),
        onOutcome: (o) => void outcomes.push(o),
        handlers: [
          handle(c.deposited, (e) => {
            if (e.sequence === failing.sequence) throw new Error('a bug');
            applied.push(`${e.key}:${e.sequence}`);
          }),
        ],
      });
      return { consumer, outcomes };
    };
    const first = start(false);
    await until(() => applied.length === 2);
    await first.consumer.stop();
    failing.sequence = 0; // fixed
    await publish(transport, c, 'a', 5); // and 4 is lost
    const again = start(true);
    await until(() => applied.length === 3 && again.outcomes.some((o) => o.kind === 'gap'));
    await again.consumer.stop();
    assert.deepEqual(applied, ['a:1', 'a:3', 'a:2'], 'the replay applied the dead-lettered a:2; a:5 is held');
    const gaps = again.outcomes.filter((o) => o.kind === 'gap');
    assert.deepEqual(
      gaps.map((g) => g.kind === 'gap' && `${g.problem} ${g.expected} ${g.received}`),
      ['gap 4 5'],
    );
  });

  it('validates onGap', () => {
    const c = contracts('event', 'gaps-options');
    assert.throws(
      () =>
        createConsumer({
          transport: createMemoryTransport(),
          group: 'g',
          inbox: new MemoryInbox(),
          onGap: 'skip' as 'hold',
          handlers: [handle(c.deposited, () => undefined)],
        }),
      (e: unknown) => e instanceof InvalidOptionError && /onGap.*hold or continue/.test(e.message),
    );
  });
});
