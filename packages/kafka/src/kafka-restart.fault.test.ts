import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConsumedRecord, OutgoingRecord } from '@sluice/core';
import { type PrivateKafka, startPrivateKafka } from './kafka-private-broker.test-support.js';
import { createKafkaTransport, type KafkaTransport } from './kafka-transport.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const KEYS = 40;
const BATCH = 20;

/**
 * A broker restart mid-stream, on a private broker (its own state dir and ports): a publisher sends
 * continuously over 40 keys through the transport, retrying a failed batch as the relay does (same ids, same
 * order, the next batch only after an ack); a group member consumes and commits, de-duplicating by event id as
 * an inbox does. The broker is SIGKILLed, then started again. Afterwards every acknowledged record was
 * consumed, nothing was consumed that was never published, and each key's records arrived in order.
 */
describe('kafka transport across a broker restart', () => {
  let broker: PrivateKafka;
  before(async () => {
    broker = await startPrivateKafka();
  });
  after(async () => {
    await broker?.destroy();
  });

  it('keeps every acknowledged publish, invents none and keeps per-key order', {
    timeout: 240_000,
  }, async (t) => {
    const producer: KafkaTransport = await createKafkaTransport({
      url: broker.url,
      namespace: 'fault',
      deliveryTimeoutMs: 5000,
      requestTimeoutMs: 5000,
    });
    const consumer: KafkaTransport = await createKafkaTransport({
      url: broker.url,
      namespace: 'fault',
      sessionTimeoutMs: 6000,
      requestTimeoutMs: 5000,
    });
    try {
      await producer.ensureTopic({ name: 'ledger', kind: 'event', partitions: 4 });
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
            const id = `k${k}-${seq}`;
            published.set(id, { key: `k${k}`, seq });
            batch.push({ topic: 'ledger', key: `k${k}`, value: JSON.stringify({ id, seq }), id });
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

      const applied = new Map<string, number>(); // id -> seq, first delivery only (the inbox)
      const lastSeq = new Map<string, number>();
      let deliveries = 0;
      let duplicates = 0;
      let pollErrors = 0;
      let commitErrors = 0;
      const invented: string[] = [];
      const outOfOrder: string[] = [];
      let stopConsuming = false;
      const sub = await consumer.subscribe({ group: 'audit', topics: ['ledger'] });
      const consuming = (async () => {
        while (!stopConsuming) {
          let batch: ConsumedRecord[];
          try {
            batch = await sub.poll({ maxRecords: 200, maxWaitMs: 200 });
          } catch {
            pollErrors++;
            await sleep(100);
            continue;
          }
          for (const r of batch) {
            deliveries++;
            const { id, seq } = JSON.parse(r.value!) as { id: string; seq: number };
            if (!published.has(id)) invented.push(id);
            if (applied.has(id)) {
              duplicates++;
              continue;
            }
            const previous = lastSeq.get(r.key) ?? -1;
            if (seq !== previous + 1) outOfOrder.push(`${r.key}: ${previous} then ${seq}`);
            lastSeq.set(r.key, Math.max(previous, seq));
            applied.set(id, seq);
          }
          if (batch.length > 0) await sub.commit(batch).catch(() => commitErrors++);
        }
      })();

      await sleep(3000);
      const beforeKill = acked.size;
      const killedAt = Date.now();
      broker.kill();
      await sleep(1000);
      await broker.start();
      const restartedMs = Date.now() - killedAt;
      const ackedAtRestart = acked.size;
      await sleep(3000);
      stopPublishing = true;
      await publisher;
      const deadline = Date.now() + 60_000;
      while ([...acked].some((id) => !applied.has(id)) && Date.now() < deadline) await sleep(100);
      stopConsuming = true;
      await consuming;
      await sub.close();

      const missing = [...acked].filter((id) => !applied.has(id));
      t.diagnostic(
        `published ${published.size} records over ${KEYS} keys, ${acked.size} acknowledged ` +
          `(${beforeKill} before the SIGKILL, ${ackedAtRestart - beforeKill} while the broker was down/restarting, ` +
          `broker back after ${restartedMs} ms); ${failedBatches} failed publish batches retried (${retriedRecords} records); ` +
          `${deliveries} deliveries, ${applied.size} distinct, ${duplicates} duplicates; ` +
          `${pollErrors} poll errors, ${commitErrors} commit errors; missing ${missing.length}, invented ${invented.length}, out of order ${outOfOrder.length}`,
      );
      assert.ok(
        ackedAtRestart > beforeKill || acked.size > ackedAtRestart,
        'publishing went on after the restart',
      );
      assert.deepEqual(missing, [], 'every acknowledged record was consumed');
      assert.deepEqual(invented, [], 'nothing consumed that was never published');
      assert.deepEqual(outOfOrder, [], 'per-key order held');
      assert.equal(
        applied.size,
        published.size,
        'every published record (retried until acknowledged) arrived',
      );
    } finally {
      await producer.close();
      await consumer.close();
    }
  });
});
