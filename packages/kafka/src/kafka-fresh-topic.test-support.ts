import { type OutgoingRecord, type PublishAck, SluiceError, type Transport } from '@sluice/core';
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

/** What a publisher saw: acknowledged ids with their positions, and the publishes it had to repeat. */
export interface PublishLog {
  /** id → where the broker said it stored it (the last acknowledgement, for an id sent twice). */
  readonly acked: Map<string, PublishAck>;
  /** Publishes refused with a retryable error and sent again, by error code. */
  readonly retried: Map<string, number>;
}

export function newPublishLog(): PublishLog {
  return { acked: new Map(), retried: new Map() };
}

/**
 * Publishes `records` as the relay does: a retryable refusal sends the same records again after a short pause
 * (at least once), a permanent one throws. Resolves once they are acknowledged, recording each ack in `log`.
 */
export async function publishUntilAcked(
  transport: Transport,
  records: readonly OutgoingRecord[],
  log: PublishLog,
  deadline = Date.now() + 60_000,
): Promise<void> {
  for (;;) {
    try {
      const acks = await transport.publish(records);
      for (const [i, r] of records.entries()) log.acked.set(r.id, acks[i]!);
      return;
    } catch (error) {
      if ((error instanceof SluiceError && !error.retryable) || Date.now() > deadline) throw error;
      const code = (error as { code?: string }).code ?? 'unknown';
      log.retried.set(code, (log.retried.get(code) ?? 0) + 1);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** One stored record: its id (from the test's value `{"id":...}`), key and position. */
export interface StoredRecord {
  readonly id: string;
  readonly key: string;
  readonly partition: number;
  readonly offset: string;
}

/** Every record of `topic`, partition by partition from offset 0, read without a group. */
export async function readWholeTopic(
  transport: Transport,
  topic: string,
  partitions: number,
): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  for (let partition = 0; partition < partitions; partition++) {
    let offset = 0;
    for (;;) {
      const page = await transport.read(topic, { to: 'offset', partition, offset: String(offset) }, 5000);
      const mine = page.filter((r) => r.partition === partition);
      if (mine.length === 0) break;
      for (const r of mine) {
        out.push({
          id: (JSON.parse(r.value!) as { id: string }).id,
          key: r.key,
          partition,
          offset: r.offset,
        });
      }
      offset = Number(mine[mine.length - 1]!.offset) + 1;
    }
  }
  return out;
}

/**
 * "Acknowledged means stored": every id acknowledged in `topic` is there at the position its ack named, and
 * nothing is there that was never published. Returns one message per problem (empty when all holds).
 */
export function checkAckedStored(
  topic: string,
  log: PublishLog,
  published: ReadonlySet<string>,
  stored: readonly StoredRecord[],
): string[] {
  const problems: string[] = [];
  const acked = [...log.acked].filter(([, ack]) => ack.topic === topic);
  const at = new Map<string, StoredRecord>();
  const byId = new Map<string, StoredRecord[]>();
  for (const r of stored) {
    at.set(`${r.partition}/${r.offset}`, r);
    byId.set(r.id, [...(byId.get(r.id) ?? []), r]);
  }
  const missing = acked.filter(([id]) => !byId.has(id));
  if (missing.length > 0) {
    problems.push(
      `${missing.length} acknowledged records are not on the topic (first: ${missing
        .slice(0, 5)
        .map(([id, ack]) => `${id} acked at ${ack.partition}/${ack.offset}`)
        .join(', ')})`,
    );
  }
  const misplaced = acked.filter(
    ([id, ack]) => byId.has(id) && at.get(`${ack.partition}/${ack.offset}`)?.id !== id,
  );
  if (misplaced.length > 0) {
    problems.push(
      `${misplaced.length} acknowledgements name a position that holds another record (first: ${misplaced[0]![0]} acked at ${misplaced[0]![1].partition}/${misplaced[0]![1].offset})`,
    );
  }
  const invented = stored.filter((r) => !published.has(r.id));
  if (invented.length > 0) {
    problems.push(`${invented.length} records on the topic were never published (first: ${invented[0]!.id})`);
  }
  return problems;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Records of `keys` numbered `from`..`to - 1` per key, in key-major order, with the id in the value. */
export function records(
  topic: string,
  keys: readonly string[],
  from: number,
  to: number,
  tag: string,
): OutgoingRecord[] {
  const out: OutgoingRecord[] = [];
  for (let n = from; n < to; n++) {
    for (const key of keys) {
      const id = `${tag}-${key}-${n}`;
      out.push({ topic, key, id, value: JSON.stringify({ id, key, n }) });
    }
  }
  return out;
}

/** Per key, the ids' numbers in the order the topic stores them must rise (each publisher's order per key). */
export function orderProblems(stored: readonly { id: string; key: string }[]): string[] {
  const last = new Map<string, number>();
  const problems: string[] = [];
  for (const r of stored) {
    const tag = r.id.slice(0, r.id.lastIndexOf('-'));
    const n = Number(r.id.slice(r.id.lastIndexOf('-') + 1));
    const before = last.get(tag) ?? -1;
    if (n < before) problems.push(`${r.id} stored after number ${before} of its key`);
    last.set(tag, Math.max(before, n));
  }
  return problems;
}

/** What a scenario found and did. */
export interface ScenarioResult {
  readonly problems: string[];
  readonly summary: string;
  /** Publishes refused because their records came back without an offset, then sent again. */
  readonly unconfirmed: number;
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
      const log = newPublishLog();
      const first = records(topic.name, keys, 0, 1, `r${round}`);
      const second = records(topic.name, keys, 1, 21, `r${round}`);
      const ids = new Set([...first, ...second].map((r) => r.id));
      const a = publishUntilAcked(transport, first, log);
      await sleep(delayMs * 1.5);
      await Promise.all([a, publishUntilAcked(transport, second, log)]);
      const stored = await readWholeTopic(transport, topic.name, topic.partitions);
      // Order per key is not checked here: the two publishes are in flight together and a refused one is sent
      // again after the other (the relay never has two in flight).
      problems.push(...checkAckedStored(topic.name, log, ids, stored).map((p) => `round ${round}: ${p}`));
      const unacked = [...ids].filter((id) => !log.acked.has(id));
      if (unacked.length > 0) problems.push(`round ${round}: ${unacked.length} records never acknowledged`);
      unconfirmed += log.retried.get('SLUICE_PUBLISH_UNCONFIRMED') ?? 0;
      acked += log.acked.size;
      published += ids.size;
    }
    const refused = kafka.proxy.corrupted - refusedBefore;
    return {
      problems,
      unconfirmed,
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
    const log = newPublishLog();
    const published = new Set<string>();
    const topics = Array.from({ length: options.topics }, (_, i) => ({
      name: `t${i}`,
      kind: 'event' as const,
      partitions: 8,
    }));
    const problems: string[] = [];
    for (let pair = 0; pair < topics.length; pair += 2) {
      const these = topics.slice(pair, pair + 2);
      await Promise.all(
        transports.map(async (transport, p) => {
          for (const topic of these) await transport.ensureTopic(topic);
          const keys = Array.from({ length: 50 }, (_, k) => `p${p}k${k}`);
          for (const topic of these) {
            let n = 0;
            for (let b = 0; b <= options.batches; b++) {
              const size = b === 0 ? 1 : 8;
              const batch = records(topic.name, keys, n, n + size, `p${p}-${topic.name}`);
              n += size;
              for (const r of batch) published.add(r.id);
              await publishUntilAcked(transport, batch, log);
            }
          }
        }),
      );
      for (const topic of these) {
        const stored = await readWholeTopic(transports[0]!, topic.name, topic.partitions);
        problems.push(
          ...checkAckedStored(topic.name, log, published, stored).map((p) => `${topic.name}: ${p}`),
        );
        problems.push(...orderProblems(stored).map((p) => `${topic.name}: ${p}`));
      }
    }
    if (log.acked.size !== published.size) {
      problems.push(`${published.size - log.acked.size} published records were never acknowledged`);
    }
    const unconfirmed = log.retried.get('SLUICE_PUBLISH_UNCONFIRMED') ?? 0;
    return {
      problems,
      unconfirmed,
      acked: log.acked.size,
      published: published.size,
      summary: `${topics.length} fresh topics x 8 partitions, ${options.publishers} publishers: ${log.acked.size} records acknowledged, ${kafka.proxy.corrupted - refusedBefore} first requests refused, retried publishes ${JSON.stringify(Object.fromEntries(log.retried))}`,
    };
  } finally {
    kafka.proxy.corruptFirstProduce(undefined);
    kafka.proxy.delayResponses(0);
    await Promise.all(transports.map((transport) => transport.close()));
  }
}
