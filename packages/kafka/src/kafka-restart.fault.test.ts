import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type ConsumedRecord,
  createConsumer,
  defineEvent,
  defineKey,
  defineTopic,
  encodeEnvelope,
  handle,
  type InboxStore,
  type OutgoingRecord,
} from '@sluice/core';
import { envelopeOf, prepareEvent } from '@sluice/core/adapter';
import { ackedStoredAcrossRestart } from '@sluice/testing';
import { type PrivateKafka, startPrivateKafka } from './kafka-private-broker.test-support.js';
import { createKafkaTransport, type KafkaTransport } from './kafka-transport.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const KEYS = 40;
const BATCH = 20;

/** A hand-written Standard Schema (the package does not depend on a validator library). */
interface TestSchema<T> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => { value: T } | { issues: { message: string }[] };
    readonly types?: { readonly input: unknown; readonly output: T };
  };
}
function schema<T>(check: (value: unknown) => value is T, expected: string): TestSchema<T> {
  return {
    '~standard': {
      version: 1,
      vendor: 'sluice-kafka-test',
      validate: (value) => (check(value) ? { value } : { issues: [{ message: `expected ${expected}` }] }),
    },
  };
}
const LedgerKey = defineKey(
  'ledgerKey',
  schema((v): v is string => typeof v === 'string', 'a string'),
  { description: 'a key of the fault test' },
);
const ledger = defineTopic({ name: 'ledger', kind: 'event', partitions: 4 });
const Entry = defineEvent({
  type: 'ledger.entry',
  version: 1,
  key: LedgerKey,
  topic: ledger,
  description: 'one entry of the fault test',
  schema: schema(
    (v): v is { ledgerKey: string; seq: number } =>
      typeof v === 'object' && v !== null && typeof (v as { seq?: unknown }).seq === 'number',
    '{ ledgerKey, seq }',
  ),
});

type Mode = 'subscription' | 'consume()';

/**
 * A broker restart mid-stream, on a private broker (its own state dir and ports): a publisher sends
 * CloudEvents continuously over 40 keys through the transport, retrying a failed batch as the relay does (same
 * ids, same order, the next batch only after an ack); a consumer reads, de-duplicating by event id as an inbox
 * does: either a bare group member (poll + commit) or core's `consume()` with an in-memory inbox. The broker
 * is SIGKILLed, then started again. Afterwards every acknowledged record was consumed, nothing was consumed
 * that was never published, and each key's events arrived in order.
 */

describe('kafka transport across a broker restart', () => {
  let broker: PrivateKafka;
  before(async () => {
    broker = await startPrivateKafka();
  });
  after(async () => {
    await broker?.destroy();
  });

  it('keeps every acknowledged publish, invents none and keeps per-key order (subscription)', {
    timeout: 240_000,
  }, async (t) => {
    t.diagnostic(await scenario(broker, 'subscription', restartOnce(broker)));
  });

  // One broker restart serves two checks at once (each restart costs about 15 s): createConsumer() across it, and
  // acknowledged means stored on a fresh topic written by 4 publishers at full rate.
  it('keeps every acknowledged publish, invents none and keeps per-key order (createConsumer()); acknowledged means stored: a fresh topic, 4 publishers at full rate, the broker SIGKILLed mid-stream', {
    timeout: 240_000,
  }, async (t) => {
    const restart = restartOnce(broker);
    const options = {
      url: broker.url,
      namespace: 'acked',
      deliveryTimeoutMs: 5000,
      requestTimeoutMs: 5000,
    };
    const [consumed, stored] = await Promise.all([
      scenario(broker, 'consume()', restart),
      ackedStoredAcrossRestart({
        open: () => createKafkaTransport(options),
        // Reading 100,000 records back may take longer than a request under load.
        openReader: () => createKafkaTransport({ ...options, requestTimeoutMs: 30_000 }),
        topic: { name: 'fresh', partitions: 8 },
        tag: `kafka-restart-${Date.now().toString(36)}`,
        beforeMs: 3000,
        afterMs: 3000,
        restart,
      }),
    ]);
    t.diagnostic(consumed);
    t.diagnostic(stored);
  });
});

/** A SIGKILL of the broker and a start again, done once however many callers ask for it. */
function restartOnce(broker: PrivateKafka): () => Promise<void> {
  let restarting: Promise<void> | undefined;
  return () => {
    restarting ??= (async () => {
      broker.kill();
      await sleep(1000);
      await broker.start();
    })();
    return restarting;
  };
}

async function scenario(broker: PrivateKafka, mode: Mode, restart: () => Promise<void>): Promise<string> {
  const namespace = `fault-${mode === 'consume()' ? 'consume' : 'sub'}`;
  const producer: KafkaTransport = await createKafkaTransport({
    url: broker.url,
    namespace,
    deliveryTimeoutMs: 5000,
    requestTimeoutMs: 5000,
  });
  const consumerTransport: KafkaTransport = await createKafkaTransport({
    url: broker.url,
    namespace,
    sessionTimeoutMs: 6000,
    requestTimeoutMs: 5000,
  });
  try {
    await producer.ensureTopic(ledger);
    const published = new Map<string, { key: string; seq: number }>();
    const acked = new Set<string>();
    let stopPublishing = false;
    let failedBatches = 0;
    let retriedRecords = 0;
    const nextSeq = new Array<number>(KEYS).fill(0);
    let cursor = 0;
    const publisher = (async () => {
      while (!stopPublishing) {
        const batch: OutgoingRecord[] = [];
        for (let i = 0; i < BATCH; i++) {
          const k = cursor++ % KEYS;
          const seq = nextSeq[k]!++;
          const key = `k${k}`;
          const envelope = envelopeOf(prepareEvent(Entry, { ledgerKey: key, seq }), 'urn:fault', seq + 1);
          published.set(envelope.id, { key, seq });
          batch.push({
            topic: ledger.name,
            key: envelope.subject,
            value: encodeEnvelope(envelope),
            id: envelope.id,
          });
        }
        for (;;) {
          try {
            await producer.publish(batch);
            for (const r of batch) acked.add(r.id);
            break;
          } catch (error) {
            assert.equal((error as { retryable?: unknown }).retryable, true, String(error));
            failedBatches++;
            retriedRecords += batch.length;
            await sleep(200);
          }
        }
        await sleep(5);
      }
    })();

    const applied = new Set<string>(); // the inbox: ids applied once
    const lastSeq = new Map<string, number>();
    let deliveries = 0;
    let duplicates = 0;
    let errors = 0;
    const invented: string[] = [];
    const outOfOrder: string[] = [];
    const apply = (id: string, key: string, seq: number): boolean => {
      deliveries++;
      if (!published.has(id)) invented.push(id);
      if (applied.has(id)) {
        duplicates++;
        return false;
      }
      const previous = lastSeq.get(key) ?? -1;
      if (seq !== previous + 1) outOfOrder.push(`${key}: ${previous} then ${seq}`);
      lastSeq.set(key, Math.max(previous, seq));
      applied.add(id);
      return true;
    };
    let stopConsumer: () => Promise<void>;
    if (mode === 'consume()') {
      const inbox: InboxStore<undefined> = {
        name: 'memory',
        async runOnce(_group, id, run) {
          if (applied.has(id)) {
            deliveries++;
            duplicates++;
            return 'duplicate';
          }
          await run(undefined);
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
      const consumer = createConsumer({
        transport: consumerTransport,
        group: 'audit',
        inbox,
        handlers: [handle(Entry, (e) => void apply(e.id, e.key, e.data.seq))],
        backoff: { initialMs: 50, maxMs: 500 },
        onOutcome: (o) => {
          if (o.kind === 'retry' || o.kind === 'dead-lettered') errors++;
        },
      });
      stopConsumer = () => consumer.stop();
    } else {
      let stop = false;
      const sub = await consumerTransport.subscribe({ group: 'audit', topics: [ledger.name] });
      const loop = (async () => {
        while (!stop) {
          let batch: ConsumedRecord[];
          try {
            batch = await sub.poll({ maxRecords: 200, maxWaitMs: 200 });
          } catch {
            errors++;
            await sleep(100);
            continue;
          }
          for (const r of batch) {
            const envelope = JSON.parse(r.value!) as { id: string; data: { seq: number } };
            apply(envelope.id, r.key, envelope.data.seq);
          }
          if (batch.length > 0) await sub.commit(batch).catch(() => errors++);
        }
      })();
      stopConsumer = async () => {
        stop = true;
        await loop;
        await sub.close();
      };
    }

    await sleep(3000);
    const beforeKill = acked.size;
    const killedAt = Date.now();
    await restart();
    const restartedMs = Date.now() - killedAt;
    const ackedAtRestart = acked.size;
    await sleep(3000);
    stopPublishing = true;
    await publisher;
    const deadline = Date.now() + 60_000;
    while ([...acked].some((id) => !applied.has(id)) && Date.now() < deadline) await sleep(100);
    await stopConsumer();

    const missing = [...acked].filter((id) => !applied.has(id));
    assert.ok(acked.size > ackedAtRestart, 'publishing went on after the restart');
    assert.deepEqual(missing, [], 'every acknowledged record was consumed');
    assert.deepEqual(invented, [], 'nothing consumed that was never published');
    assert.deepEqual(outOfOrder, [], 'per-key order held');
    assert.equal(applied.size, published.size, 'every published record (retried until acknowledged) arrived');
    return (
      `${mode}: published ${published.size} events over ${KEYS} keys, all ${acked.size} acknowledged in the end ` +
      `(${beforeKill} before the SIGKILL, ${ackedAtRestart - beforeKill} between the kill and the restart script returning, ` +
      `broker answering again ${restartedMs} ms after the kill); ${failedBatches} publish batches failed and were retried ` +
      `(${retriedRecords} records); ${deliveries} deliveries, ${applied.size} applied, ${duplicates} duplicates skipped; ` +
      `${errors} consumer errors/retries; missing ${missing.length}, invented ${invented.length}, out of order ${outOfOrder.length}`
    );
  } finally {
    await producer.close();
    await consumerTransport.close();
  }
}
