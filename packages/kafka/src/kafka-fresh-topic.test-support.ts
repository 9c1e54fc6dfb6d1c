import { type OutgoingRecord, SluiceError, type Transport } from '@sluice/core';
import { ackedStoredProblems, compareAckedStored, type PublishRun, readAll } from '@sluice/testing';
import { type KafkaFaultProxy, startKafkaFaultProxy } from './kafka-fault-proxy.test-support.js';
import type { KafkaTransportOptions } from './kafka-options.js';
import { freePort, type PrivateKafka, startPrivateKafka } from './kafka-private-broker.test-support.js';

/** A private broker that clients reach only through a fault proxy. */
export interface ProxiedKafka {
  readonly broker: PrivateKafka;
  readonly proxy: KafkaFaultProxy;
  destroy(): Promise<void>;
}

/** Starts a fault proxy on a free port, then a private broker that advertises the proxy's port. */
export async function startProxiedKafka(): Promise<ProxiedKafka> {
  const brokerPort = await freePort();
  let proxyPort = await freePort();
  while (proxyPort === brokerPort) proxyPort = await freePort();
  const proxy = await startKafkaFaultProxy(proxyPort, brokerPort);
  try {
    const broker = await startPrivateKafka({ port: brokerPort, advertisedPort: proxyPort });
    return {
      broker,
      proxy,
      async destroy() {
        await broker.destroy();
        await proxy.close();
      },
    };
  } catch (error) {
    await proxy.close();
    throw error;
  }
}

/** What publishers did in one topic (the shape `@sluice/testing`'s acknowledged-means-stored check reads). */
export interface TopicRun {
  readonly run: PublishRun;
  /** Publishes refused with a retryable error and sent again, by error code. */
  readonly retried: Map<string, number>;
}

export function newTopicRun(topic: string): TopicRun {
  return {
    run: { topic, published: new Map(), acks: [], failedPublishes: 0, errors: [], elapsedMs: 0 },
    retried: new Map(),
  };
}

/**
 * Records of `keys` numbered `from`..`to - 1` per key, in number-major order, for publisher `publisher`. Each
 * value is `{ id, p, seq }`, as the shared check reads it; each record is entered in `log.run.published`.
 */
export function records(
  log: TopicRun,
  keys: readonly string[],
  from: number,
  to: number,
  publisher: number,
): OutgoingRecord[] {
  const out: OutgoingRecord[] = [];
  for (let seq = from; seq < to; seq++) {
    for (const key of keys) {
      const id = `${log.run.topic}-p${publisher}-${key}-${seq}`;
      log.run.published.set(id, { publisher, key, seq });
      out.push({ topic: log.run.topic, key, id, value: JSON.stringify({ id, p: publisher, seq }) });
    }
  }
  return out;
}

/**
 * Publishes `records` as the relay does: a retryable refusal sends the same records again after a short pause
 * (at least once), a permanent one throws. Resolves once they are acknowledged, recording each ack.
 */
export async function publishUntilAcked(
  transport: Transport,
  batch: readonly OutgoingRecord[],
  log: TopicRun,
  deadline = Date.now() + 60_000,
): Promise<void> {
  for (;;) {
    try {
      const acks = await transport.publish(batch);
      for (const [i, r] of batch.entries()) {
        const meta = log.run.published.get(r.id)!;
        log.run.acks.push({ id: r.id, ...meta, partition: acks[i]!.partition, offset: acks[i]!.offset });
      }
      return;
    } catch (error) {
      if ((error instanceof SluiceError && !error.retryable) || Date.now() > deadline) throw error;
      log.run.failedPublishes++;
      const code = (error as { code?: string }).code ?? 'unknown';
      log.retried.set(code, (log.retried.get(code) ?? 0) + 1);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/**
 * Reads the whole topic and applies the shared check: every ack stored where it said, nothing invented,
 * each publisher's order per key (unless `checkOrder` is false). Copies of a retried publish are allowed.
 */
async function problemsOf(transport: Transport, log: TopicRun, checkOrder: boolean): Promise<string[]> {
  const stored = await readAll(transport, log.run.topic);
  const verdict = compareAckedStored(log.run, stored);
  const checked = checkOrder ? verdict : { ...verdict, outOfOrder: [] };
  const problems = ackedStoredProblems(log.run, checked, true);
  const unacked = log.run.published.size - new Set(log.run.acks.map((a) => a.id)).size;
  if (unacked > 0) problems.push(`${unacked} published records of ${log.run.topic} were never acknowledged`);
  return problems;
}

/** Acknowledgements and published records over several topics' runs. */
function totals(logs: Iterable<TopicRun>): { acked: number; published: number } {
  let acked = 0;
  let published = 0;
  for (const log of logs) {
    acked += log.run.acks.length;
    published += log.run.published.size;
  }
  return { acked, published };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What a scenario found and did. */
export interface ScenarioResult {
  readonly problems: string[];
  readonly summary: string;
  /** Publishes refused because their records came back without an offset, then sent again. */
  readonly unconfirmed: number;
  /** Produce requests the proxy corrupted (the broker refused them with CORRUPT_MESSAGE). */
  readonly refused: number;
  readonly acked: number;
  readonly published: number;
}

/**
 * A small publish (one record per key) into a topic created just before, and while it is in flight (the
 * proxy holds responses back `delayMs`) a larger one: librdkafka pipelines the second request of a partition
 * behind a first request of fewer than 5 records. With the proxy refusing each client's first request per
 * partition, the first fails while the second is stored. Checks every round's topic.
 */
export async function smallFirstScenario(
  kafka: ProxiedKafka,
  namespace: string,
  rounds: number,
  delayMs = 150,
): Promise<ScenarioResult> {
  const { createKafkaTransport } = await import('./kafka-transport.js');
  const transport = await createKafkaTransport({ url: kafka.broker.url, namespace });
  const refusedBefore = kafka.proxy.corrupted;
  try {
    kafka.proxy.corruptFirstProduce(`${namespace}.`);
    kafka.proxy.delayResponses(delayMs);
    const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const problems: string[] = [];
    let unconfirmed = 0;
    let acked = 0;
    let published = 0;
    for (let round = 0; round < rounds; round++) {
      const topic = { name: `t${round}`, kind: 'event' as const, partitions: 4 };
      await transport.ensureTopic(topic);
      const log = newTopicRun(topic.name);
      const first = records(log, keys, 0, 1, 0);
      const second = records(log, keys, 1, 21, 0);
      // The larger publish goes out once the broker has refused the first request of every partition, while
      // those refusals are still held back by the proxy: librdkafka then pipelines it behind them.
      const refused = kafka.proxy.corrupted;
      const a = publishUntilAcked(transport, first, log);
      for (const until = Date.now() + 10_000; Date.now() < until; ) {
        if (kafka.proxy.corrupted >= refused + topic.partitions) break;
        await sleep(2);
      }
      await Promise.all([a, publishUntilAcked(transport, second, log)]);
      // Order per key is not checked here: the two publishes are in flight together and a refused one is sent
      // again after the other (the relay never has two in flight).
      problems.push(...(await problemsOf(transport, log, false)).map((p) => `round ${round}: ${p}`));
      unconfirmed += log.retried.get('SLUICE_PUBLISH_UNCONFIRMED') ?? 0;
      acked += log.run.acks.length;
      published += log.run.published.size;
    }
    const refused = kafka.proxy.corrupted - refusedBefore;
    return {
      problems,
      unconfirmed,
      refused,
      acked,
      published,
      summary: `${rounds} fresh topics, ${refused} first requests refused by the broker, ${unconfirmed} publishes reported delivered without offsets and sent again, ${acked} of ${published} records acknowledged`,
    };
  } finally {
    kafka.proxy.corruptFirstProduce(undefined);
    kafka.proxy.delayResponses(0);
    await transport.close();
  }
}

/**
 * Several publishers (each its own producer, as several relays are) into pairs of topics created together,
 * each sending as soon as it has ensured them: a small batch, then batches back to back, each awaited and
 * retried as the relay does. Every client's first request per partition is refused by the broker, responses
 * are held back `delayMs`, and `during` runs alongside (CPU pressure, broker pauses). Checks each topic:
 * every ack stored where it said, nothing invented, each publisher's order per key.
 */
export async function fullRateScenario(
  kafka: ProxiedKafka,
  namespace: string,
  options: {
    topics: number;
    publishers: number;
    batches: number;
    delayMs?: number;
    /** e.g. a short `deliveryTimeoutMs`, so a paused broker makes publishes fail and be retried. */
    transport?: Partial<KafkaTransportOptions>;
  },
): Promise<ScenarioResult> {
  const { createKafkaTransport } = await import('./kafka-transport.js');
  const transports: Transport[] = [];
  for (let i = 0; i < options.publishers; i++) {
    transports.push(await createKafkaTransport({ ...options.transport, url: kafka.broker.url, namespace }));
  }
  const refusedBefore = kafka.proxy.corrupted;
  try {
    kafka.proxy.corruptFirstProduce(`${namespace}.`);
    kafka.proxy.delayResponses(options.delayMs ?? 20);
    const topics = Array.from({ length: options.topics }, (_, i) => ({
      name: `t${i}`,
      kind: 'event' as const,
      partitions: 8,
    }));
    const logs = topics.map((topic) => newTopicRun(topic.name));
    const problems: string[] = [];
    for (let pair = 0; pair < topics.length; pair += 2) {
      const these = topics.slice(pair, pair + 2);
      await Promise.all(
        transports.map(async (transport, p) => {
          for (const topic of these) await transport.ensureTopic(topic);
          const keys = Array.from({ length: 50 }, (_, k) => `p${p}k${k}`);
          for (let i = 0; i < these.length; i++) {
            const log = logs[pair + i]!;
            let n = 0;
            for (let b = 0; b <= options.batches; b++) {
              const size = b === 0 ? 1 : 8;
              await publishUntilAcked(transport, records(log, keys, n, n + size, p), log);
              n += size;
            }
          }
        }),
      );
      for (const log of logs.slice(pair, pair + 2)) {
        problems.push(...(await problemsOf(transports[0]!, log, true)));
      }
    }
    const retried = new Map<string, number>();
    for (const log of logs)
      for (const [code, n] of log.retried) retried.set(code, (retried.get(code) ?? 0) + n);
    const { acked, published } = totals(logs);
    return {
      problems,
      unconfirmed: retried.get('SLUICE_PUBLISH_UNCONFIRMED') ?? 0,
      refused: kafka.proxy.corrupted - refusedBefore,
      acked,
      published,
      summary: `${topics.length} fresh topics x 8 partitions, ${options.publishers} publishers: ${acked} records acknowledged, ${kafka.proxy.corrupted - refusedBefore} first requests refused, retried publishes ${JSON.stringify(Object.fromEntries(retried))}`,
    };
  } finally {
    kafka.proxy.corruptFirstProduce(undefined);
    kafka.proxy.delayResponses(0);
    await Promise.all(transports.map((transport) => transport.close()));
  }
}

/**
 * Relays at full rate into topics they create themselves: `relays` services, each with its own outbox
 * (in memory: the outbox database is not under test here) of `events` events over 2 new topics and 60 keys and
 * its own producer, start at once; each relay creates its topics and publishes batches of 200 as soon as they
 * exist. The transport each relay uses records every acknowledgement; afterwards each topic is checked.
 */
export async function relayScenario(
  kafka: ProxiedKafka,
  namespace: string,
  options: { relays: number; events: number; delayMs?: number },
): Promise<ScenarioResult> {
  const { createKafkaTransport } = await import('./kafka-transport.js');
  const { createRelay } = await import('@sluice/core');
  const { MemoryOutbox } = await import('@sluice/core/testing');
  const refusedBefore = kafka.proxy.corrupted;
  const topicNames = Array.from({ length: options.relays * 2 }, (_, i) => `t${i}`);
  const logs = new Map(topicNames.map((name) => [name, newTopicRun(name)]));
  const transports: Transport[] = [];
  const retried = new Map<string, number>();
  try {
    kafka.proxy.corruptFirstProduce(`${namespace}.`);
    kafka.proxy.delayResponses(options.delayMs ?? 20);
    const relays = [];
    const outboxes: InstanceType<typeof MemoryOutbox>[] = [];
    for (let r = 0; r < options.relays; r++) {
      const inner = await createKafkaTransport({
        url: kafka.broker.url,
        namespace,
      });
      transports.push(inner);
      const recording: Transport = {
        name: inner.name,
        ensureTopic: (spec) => inner.ensureTopic(spec),
        publish: async (batch) => {
          try {
            const acks = await inner.publish(batch);
            for (const [i, record] of batch.entries()) {
              const log = logs.get(record.topic)!;
              const meta = log.run.published.get(record.id)!;
              log.run.acks.push({
                id: record.id,
                ...meta,
                partition: acks[i]!.partition,
                offset: acks[i]!.offset,
              });
            }
            return acks;
          } catch (error) {
            const code = (error as { code?: string }).code ?? 'unknown';
            retried.set(code, (retried.get(code) ?? 0) + 1);
            throw error;
          }
        },
        subscribe: (o) => inner.subscribe(o),
        resetOffsets: (g, t, target) => inner.resetOffsets(g, t, target),
        lag: (g, t) => inner.lag(g, t),
        read: (t, target, limit) => inner.read(t, target, limit),
        close: () => inner.close(),
      };
      const outbox = new MemoryOutbox();
      const mine = [topicNames[2 * r]!, topicNames[2 * r + 1]!];
      const keys = Array.from({ length: 60 }, (_, k) => `r${r}k${k}`);
      for (let seq = 0; outbox.rows.length < options.events; seq++) {
        for (const key of keys) {
          for (const topic of mine) {
            const log = logs.get(topic)!;
            const id = `${topic}-p${r}-${key}-${seq}`;
            log.run.published.set(id, { publisher: r, key, seq });
            outbox.add(topic, key, JSON.stringify({ id, p: r, seq }), id);
          }
        }
      }
      outboxes.push(outbox);
      relays.push(
        createRelay({
          outbox,
          transport: recording,
          topics: mine.map((name) => ({ name, kind: 'event' as const, partitions: 8 })),
          batchSize: 200,
          backoff: { initialMs: 20, maxMs: 500 },
        }),
      );
    }
    for (const relay of relays) relay.start();
    const deadline = Date.now() + 120_000;
    while (outboxes.some((o) => o.rows.length > 0) && Date.now() < deadline) await sleep(20);
    for (const relay of relays) await relay.stop();
    const problems: string[] = [];
    const left = outboxes.reduce((sum, o) => sum + o.rows.length, 0);
    if (left > 0) problems.push(`${left} outbox rows were still pending after 120 s`);
    for (const log of logs.values()) problems.push(...(await problemsOf(transports[0]!, log, true)));
    const { acked, published } = totals(logs.values());
    return {
      problems,
      unconfirmed: retried.get('SLUICE_PUBLISH_UNCONFIRMED') ?? 0,
      refused: kafka.proxy.corrupted - refusedBefore,
      acked,
      published,
      summary: `${options.relays} relays, ${topicNames.length} topics they created: ${acked} acknowledgements for ${published} events, ${kafka.proxy.corrupted - refusedBefore} first requests refused, failed publishes ${JSON.stringify(Object.fromEntries(retried))}`,
    };
  } finally {
    kafka.proxy.corruptFirstProduce(undefined);
    kafka.proxy.delayResponses(0);
    await Promise.all(transports.map((transport) => transport.close()));
  }
}
