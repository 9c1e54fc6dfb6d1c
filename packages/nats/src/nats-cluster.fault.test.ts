import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, Empty } from '@nats-io/transport-node';
import {
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
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { natsNames } from './nats-names.js';
import { startPrivateNatsCluster } from './nats-private-cluster.test-support.js';
import { createNatsTransport } from './nats-transport.js';

const urls = process.env['SLUICE_TEST_NATS_CLUSTER_URLS'];
const dir = process.env['SLUICE_TEST_NATS_CLUSTER_DIR'];
if (!urls || !dir) {
  throw new Error(
    'SLUICE_TEST_NATS_CLUSTER_URLS is not set: run the tests with `npm test` (it starts the cluster)',
  );
}
const services = fileURLToPath(new URL('../../../scripts/services', import.meta.url));
const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A Standard Schema that accepts what it is given (the test builds the data itself). */
function accept<T>(): StandardSchemaV1<unknown, T> {
  return { '~standard': { version: 1, vendor: 'test', validate: (value) => ({ value: value as T }) } };
}

const DeviceId = defineKey('deviceId', accept<string>(), { description: 'a device' });
const topic = defineTopic({ name: 'fault.readings', kind: 'event', partitions: 8 });
const Reading = defineEvent({
  type: 'device.reading',
  version: 1,
  key: DeviceId,
  topic,
  description: 'one numbered reading of a device',
  schema: accept<{ deviceId: string; n: number }>(),
});

const KEYS = 60;
const TOTAL = 6000;
const BATCH = 30;
/** Pause between batches: the stream runs for about 10 s, the kill a third of the way in. */
const PACE_MS = 50;

/**
 * Through the Sluice transport and core's createConsumer() runtime: publish a continuous stream over many keys to an
 * R3 stream while consuming, SIGKILL the stream's leader node mid-stream, keep going, restart it with
 * scripts/services; then every acknowledged record was applied, nothing invented, per-key order held.
 */
describe('NATS JetStream transport on the 3-node cluster', () => {
  it('SIGKILL of the stream leader mid-stream: nothing acknowledged lost, nothing invented, per-key order', {
    timeout: 240_000,
  }, async (context) => {
    const namespace = `f${randomUUID().replaceAll('-', '').slice(0, 10)}`;
    const options = { url: urls, namespace, replicas: 3, sessionTimeoutMs: 3000, requestTimeoutMs: 5000 };
    const producer = await createNatsTransport(options);
    const consumerTransport = await createNatsTransport(options);
    const admin = await connect({
      servers: urls.split(','),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
    });
    const jsm = await jetstreamManager(admin, { timeout: 5000 });
    const stream = natsNames(namespace).topicStream(topic.name);
    try {
      await producer.ensureTopic(topic);
      // Make node 0 the stream's leader (scripts/services restarts a killed node 0).
      let leader = (await jsm.streams.info(stream)).cluster?.leader;
      for (let i = 0; i < 20 && leader !== 'sluice-n0'; i++) {
        await admin
          .request(`$JS.API.STREAM.LEADER.STEPDOWN.${stream}`, Empty, { timeout: 5000 })
          .catch(() => undefined);
        await sleep(300);
        leader = (await jsm.streams.info(stream).catch(() => undefined))?.cluster?.leader;
      }
      const victim = leader === undefined ? 0 : Number(leader.replace('sluice-n', ''));

      // The consumer: core's runtime with an in-memory inbox.
      const applied = new Set<string>();
      const perKey = new Map<string, number[]>();
      let deliveries = 0;
      let duplicates = 0;
      const inbox: InboxStore<undefined> = {
        name: 'memory',
        async runOnce(_group, id, apply) {
          deliveries++;
          if (applied.has(id)) {
            duplicates++;
            return 'duplicate';
          }
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
      const consumer = createConsumer({
        transport: consumerTransport,
        group: 'readers',
        inbox,
        maxAttempts: 3,
        backoff: { initialMs: 10, maxMs: 50 },
        handlers: [
          handle(Reading, (e) => {
            const list = perKey.get(e.data.deviceId) ?? [];
            list.push(e.data.n);
            perKey.set(e.data.deviceId, list);
          }),
        ],
      });

      let consumerError: unknown;
      consumer.done.catch((error: unknown) => {
        consumerError = error ?? 'unknown error';
      });
      // The producer: batches over KEYS keys, each retried (same ids: Nats-Msg-Id drops what was stored).
      const sent = new Map<string, { key: string; n: number }>();
      const acked = new Set<string>();
      const next = new Map<string, number>();
      let failedPublishes = 0;
      let longestStallMs = 0;
      let killedAt = 0;
      let restarted: Promise<void> | undefined;
      let restartMs = 0;
      const started = Date.now();
      for (let b = 0; b * BATCH < TOTAL; b++) {
        const batch: OutgoingRecord[] = [];
        for (let i = 0; i < BATCH; i++) {
          const key = `device-${(b * BATCH + i) % KEYS}`;
          const n = next.get(key) ?? 0;
          next.set(key, n + 1);
          const envelope = envelopeOf(prepareEvent(Reading, { deviceId: key, n }), 'urn:fault', n + 1);
          sent.set(envelope.id, { key, n });
          batch.push({ topic: topic.name, key, value: encodeEnvelope(envelope), id: envelope.id });
        }
        const batchStart = Date.now();
        for (;;) {
          try {
            await producer.publish(batch);
            break;
          } catch (error) {
            failedPublishes++;
            assert.equal((error as { retryable?: boolean }).retryable, true, String(error));
            await sleep(100);
          }
        }
        longestStallMs = Math.max(longestStallMs, Date.now() - batchStart);
        for (const r of batch) acked.add(r.id);
        if (killedAt === 0 && acked.size >= TOTAL / 3 && applied.size > 0) {
          const pid = Number(readFileSync(join(dir, `n${victim}`, 'nats.pid'), 'utf8').trim());
          process.kill(pid, 'SIGKILL');
          killedAt = Date.now();
        }
        if (killedAt > 0 && restarted === undefined && Date.now() - killedAt > 4000) {
          const t0 = Date.now();
          restarted = restartNode(victim).then(() => {
            restartMs = Date.now() - t0;
          });
        }
        await sleep(PACE_MS);
      }
      assert.ok(killedAt > 0, 'the node was killed mid-stream');
      const publishMs = Date.now() - started;
      await (restarted ?? restartNode(victim));

      const deadline = Date.now() + 90_000;
      while (applied.size < acked.size && Date.now() < deadline && consumerError === undefined)
        await sleep(100);
      assert.equal(consumerError, undefined, `the consumer died: ${String(consumerError)}`);
      await consumer.stop();

      const lost = [...acked].filter((id) => !applied.has(id)).length;
      const phantom = [...applied].filter((id) => !sent.has(id)).length;
      let orderViolations = 0;
      for (const list of perKey.values()) {
        for (let i = 1; i < list.length; i++) if (list[i]! <= list[i - 1]!) orderViolations++;
      }
      const info = await jsm.streams.info(stream);
      const report = {
        published: sent.size,
        acknowledged: acked.size,
        inStream: info.state.messages,
        applied: applied.size,
        deliveries,
        'duplicates skipped by the inbox': duplicates,
        'publish attempts failed (retried)': failedPublishes,
        'longest publish stall (ms)': longestStallMs,
        'killed node': `sluice-n${victim} (the stream leader: ${leader === `sluice-n${victim}`})`,
        'restart took (ms)': restartMs,
        'publishing took (ms)': publishMs,
        lost,
        phantom,
        'order violations (per key)': orderViolations,
        'leader after': info.cluster?.leader,
      };
      context.diagnostic(JSON.stringify(report));
      console.log('nats cluster fault test:', report);
      assert.equal(lost, 0, 'every acknowledged record was applied');
      assert.equal(phantom, 0, 'nothing invented');
      assert.equal(orderViolations, 0, 'per-key order held');
      assert.equal(info.state.messages, acked.size, 'the stream holds every acknowledged record once');
    } finally {
      await producer.close().catch(() => undefined);
      await consumerTransport.close().catch(() => undefined);
      for await (const name of jsm.streams.names()) {
        if (name.startsWith(`SLUICE-${namespace}-`)) await jsm.streams.delete(name).catch(() => undefined);
      }
      await admin.close();
    }
  });

  it('acknowledged means stored: a fresh topic, 4 publishers at full rate, the stream leader SIGKILLed mid-stream', {
    timeout: 180_000,
  }, async (context) => {
    // A private cluster: this case kills a node, which must not disturb other tests on the shared one.
    const cluster = await startPrivateNatsCluster();
    const namespace = `a${randomUUID().replaceAll('-', '').slice(0, 10)}`;
    const options = { url: cluster.urls, namespace, replicas: 3, requestTimeoutMs: 5000 };
    let victim = -1;
    const admin = await connect({
      servers: cluster.urls.split(','),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
    }).catch(async (error: unknown) => {
      await cluster.destroy();
      throw error;
    });
    try {
      const jsm = await jetstreamManager(admin, { timeout: 5000 });
      const summary = await ackedStoredAcrossRestart({
        open: () => createNatsTransport(options),
        topic: { name: 'fresh', partitions: 8 },
        tag: `nats-restart-${namespace}`,
        restart: async () => {
          const leader = (await jsm.streams.info(natsNames(namespace).topicStream('fresh'))).cluster?.leader;
          victim = leader === undefined ? 0 : Number(leader.replace('sluice-n', ''));
          cluster.kill(victim);
          await sleep(4000);
          await cluster.start();
        },
      });
      context.diagnostic(`${summary}; killed sluice-n${victim}, the stream leader`);
    } finally {
      await admin.close().catch(() => undefined);
      await cluster.destroy();
    }
  });
});

/**
 * Restarts a killed node: node 0 through scripts/services (which starts the cluster when node 0 is down);
 * another node with the command scripts/services uses, then scripts/services to wait until all answer.
 */
async function restartNode(node: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      if (node !== 0) {
        const conf = join(dir!, `n${node}`, 'nats.conf');
        await run('bash', [
          '-c',
          `setsid nats-server -c "${conf}" -js </dev/null >>"${join(dir!, `n${node}`, 'nats.log')}" 2>&1 &`,
        ]);
      }
      await run('bash', [services, 'nats-cluster']);
      return;
    } catch (error) {
      // The client port may be held by a TIME_WAIT socket for a while: try again.
      if (attempt >= 3) throw error;
      await sleep(5000);
    }
  }
}
