import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { type RawRecord, runTransportConformance } from '@sluice/testing';
import { HEADERS_HEADER, KEY_HEADER } from './nats-codec.js';
import { natsNames } from './nats-names.js';
import type { NatsTransportOptions } from './nats-options.js';
import { createNatsTransport, type NatsTransport } from './nats-transport.js';

const single = process.env['SLUICE_TEST_NATS_URL'];
const cluster = process.env['SLUICE_TEST_NATS_CLUSTER_URLS'];
if (!single || !cluster) {
  throw new Error(
    'SLUICE_TEST_NATS_URL / SLUICE_TEST_NATS_CLUSTER_URLS are not set: run the tests with `npm test` (it starts the servers)',
  );
}

const sessionTimeoutMs = 1000;

/** Deletes every stream of a namespace (the cases' streams, members and offsets). */
async function deleteNamespace(url: string, namespace: string): Promise<void> {
  const nc = await connect({ servers: url.split(',') });
  try {
    const jsm = await jetstreamManager(nc);
    const names = await jsm.streams.names().next();
    for (const name of names) {
      if (name.startsWith(`SLUICE-${namespace}-`)) await jsm.streams.delete(name).catch(() => undefined);
    }
  } finally {
    await nc.close();
  }
}

/**
 * Every message of `topic`'s stream with all its NATS headers (and the record's own headers from
 * `Sluice-Headers`), read with the NATS client alone.
 */
async function readStream(url: string, namespace: string, topic: string): Promise<RawRecord[]> {
  const nc = await connect({ servers: url.split(',') });
  try {
    const jsm = await jetstreamManager(nc);
    const stream = natsNames(namespace).topicStream(topic);
    const { state } = await jsm.streams.info(stream);
    const out: RawRecord[] = [];
    for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
      const m = await jsm.streams.getMessage(stream, { seq });
      if (m === null || m.data.length === 0) continue; // deleted, or a tombstone
      const headers: Record<string, string> = {};
      for (const name of m.header?.keys() ?? []) headers[name] = m.header!.get(name);
      // The record's own headers travel as URI-encoded JSON in one NATS header (docs/cloudevents.md).
      const own = headers[HEADERS_HEADER];
      if (own !== undefined) Object.assign(headers, JSON.parse(decodeURIComponent(own)));
      out.push({ key: decodeURIComponent(headers[KEY_HEADER] ?? ''), value: m.string(), headers });
    }
    return out;
  } finally {
    await nc.close();
  }
}

// The tombstone retention outlasts the durability case (its tombstone must still be there after reopening),
// which takes about 2 s on the cluster (creating R3 streams). The message retention case publishes to R3
// streams and reads back inside the retention: 1 s on the cluster, where a loaded machine has taken longer
// than the suite's default 150 ms for the two.
for (const [label, url, replicas, tombstoneRetentionMs, messageRetentionMs] of [
  ['single server', single, 1, 3000, 150],
  ['3-node cluster, R3', cluster, 3, 8000, 1000],
] as const) {
  runTransportConformance(
    `NATS JetStream (${label})`,
    async () => {
      // A fresh namespace per case: its own streams, members and offsets.
      const namespace = `c${randomUUID().replaceAll('-', '').slice(0, 12)}`;
      const options: NatsTransportOptions = {
        url,
        namespace,
        replicas,
        sessionTimeoutMs,
        tombstoneRetentionMs,
        sweepIntervalMs: 100,
      };
      return {
        transport: await createNatsTransport(options),
        reopen: () => createNatsTransport(options),
        connect: () => createNatsTransport(options),
        crash: (t) => (t as NatsTransport).abandon(),
        readRaw: { binding: 'nats', read: (topic) => readStream(url, namespace, topic) },
        cleanup: () => deleteNamespace(url, namespace),
      };
    },
    { sessionTimeoutMs, tombstoneRetentionMs, messageRetentionMs, timeoutMs: 60_000 },
  );
}

describe('NATS JetStream transport specifics', () => {
  const opened: NatsTransport[] = [];
  after(async () => {
    for (const t of opened) await t.close();
  });

  it('validates options naming the field; reads max_payload from the server', async () => {
    for (const [field, bad] of [
      ['url', ''],
      ['url', 'http://x'],
      ['replicas', 0],
      ['sessionTimeoutMs', 1.5],
      ['heartbeatIntervalMs', 20_000],
      ['namespace', ''],
    ] as const) {
      await assert.rejects(
        createNatsTransport({ url: single, [field]: bad }),
        (error: Error & { code?: string }) =>
          error.code === 'SLUICE_INVALID_OPTION' && error.message.includes(`\`${field}\``),
      );
    }
    const t = await createNatsTransport({ url: single, namespace: `s${randomUUID().slice(0, 8)}` });
    opened.push(t);
    assert.equal(t.name, 'nats-jetstream');
    assert.equal(t.maxPayloadBytes, 1024 * 1024);
    assert.ok(Object.isFrozen(t.options));
  });

  it('keys with dots, wildcards and spaces stay distinct on an entity topic; a republished id is stored once', async () => {
    const namespace = `s${randomUUID().slice(0, 8)}`;
    const t = await createNatsTransport({ url: single, namespace });
    opened.push(t);
    try {
      await t.ensureTopic({ name: 'odd.keys', kind: 'entity', partitions: 1 });
      const keys = ['a.b', 'a', 'a.*', '>', 'a b', '', 'ü'];
      await t.publish(keys.map((key, i) => ({ topic: 'odd.keys', key, value: `v${i}`, id: `e${i}` })));
      const got = await t.read('odd.keys', { to: 'earliest' }, 100);
      assert.deepEqual(got.map((r) => r.key).sort(), [...keys].sort());
      const [first] = await t.publish([{ topic: 'odd.keys', key: 'x', value: '1', id: 'same' }]);
      const [again] = await t.publish([{ topic: 'odd.keys', key: 'x', value: '1', id: 'same' }]);
      assert.equal(again!.offset, first!.offset, 'Nats-Msg-Id de-duplicated the republish');
    } finally {
      await t.close();
      await deleteNamespace(single, namespace);
    }
  });
});
