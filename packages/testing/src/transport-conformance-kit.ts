// Types and helpers of the transport conformance suite, shared by its groups of cases.
import assert from 'node:assert/strict';
import type {
  ConsumedRecord,
  OutgoingRecord,
  PublishAck,
  Subscription,
  TopicSpec,
  Transport,
} from '@sluice/core';
import type { RawReader } from './cloudevents-conformance.js';

/** What a conformance factory returns: a transport on a fresh, empty store. */
export interface TransportHarness {
  readonly transport: Transport;
  /** Opens the same store again after `transport` was closed (enables the durability case). */
  readonly reopen?: () => Promise<Transport>;
  /** Another client of the same store, as a second process would open it (enables the session-timeout case). */
  readonly connect?: () => Promise<Transport>;
  /** Makes a client die without leaving its groups: no more heartbeats (enables the session-timeout case). */
  readonly crash?: (transport: Transport) => Promise<void>;
  /** Deletes the store. The suite has closed every transport it was given by then. */
  cleanup(): Promise<void>;
  /**
   * Reads the records of a topic straight from the store with the broker's own client (enables the CloudEvents
   * case: every record must be readable by any CloudEvents consumer, not only by Sluice).
   */
  readonly readRaw?: RawReader;
}

/** What the suite must know about how the factory configured the transport. */
export interface TransportConformanceOptions {
  /** The members' session timeout the factory configured. Keep it small (e.g. 300 ms). Default 10000. */
  readonly sessionTimeoutMs?: number;
  /** The largest payload the transport accepts. Default 1 MiB. */
  readonly maxPayloadBytes?: number;
  /** When set, the tombstone retention the factory configured: the suite checks tombstones go away. */
  readonly tombstoneRetentionMs?: number;
  /** How long a poll may take (median of 5) to return after a publish while it waits. Default 100 ms. */
  readonly wakeLatencyMs?: number;
  /**
   * The retention of the message topic in the retention case: its records must all be readable right after
   * publishing, and gone this long plus 250 ms later. Default 150 ms; a replicated cluster under load may need
   * longer for the publish and the read to fit inside it.
   */
  readonly messageRetentionMs?: number;
  /** Timeout of each case. Default 30000 ms. */
  readonly timeoutMs?: number;
  /**
   * Whether the transport keeps what it acknowledged across a restart. Default true: the harness must then
   * give `reopen`, and the suite checks nothing acknowledged is lost. Only the in-memory transport of unit
   * tests says false.
   */
  readonly durable?: boolean;
  /**
   * Batches of 250 records each of the 4 publishers sends to each of the 3 fresh topics in the
   * "acknowledged means stored" case. Default 6 (6000 records per topic).
   */
  readonly ackedStoredBatches?: number;
}

export type Factory = () => Promise<TransportHarness>;
export type Ctx = {
  h: TransportHarness;
  t: Transport;
  opened: Transport[];
  skip: (reason: string) => void;
  note: (message: string) => void;
};

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let ids = 0;

/** An outgoing record with a unique id. */
export function rec(
  topic: string,
  key: string,
  value: string | null,
  headers?: Record<string, string>,
): OutgoingRecord {
  return { topic, key, value, id: `id-${++ids}`, ...(headers === undefined ? {} : { headers }) };
}

export const tp = (r: { partition: number }) => r.partition;
export const at = (r: { partition: number; offset: string }) => `${r.partition}@${r.offset}`;

/** Polls until `done(all)` or `timeoutMs`; returns everything received, checking `maxRecords` on every poll. */
export async function drain(
  sub: Subscription,
  done: (all: ConsumedRecord[]) => boolean,
  timeoutMs = 5000,
  maxRecords = 100,
): Promise<ConsumedRecord[]> {
  const all: ConsumedRecord[] = [];
  const deadline = Date.now() + timeoutMs;
  while (!done(all) && Date.now() < deadline) {
    const batch = await sub.poll({ maxRecords, maxWaitMs: 50 });
    assert.ok(
      batch.length <= maxRecords,
      `poll returned ${batch.length} records, more than maxRecords ${maxRecords}`,
    );
    all.push(...batch);
  }
  return all;
}

/** Asserts nothing more arrives within `ms`. */
export async function assertQuiet(sub: Subscription, ms = 150): Promise<void> {
  const extra = await sub.poll({ maxRecords: 100, maxWaitMs: ms });
  assert.deepEqual(extra.map(at), [], 'expected no more records');
}

/** Polls (with nothing published) until every member's assignment is stable and covers the topic. */
export async function settle(subs: Subscription[], partitions: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const sub of subs) assert.deepEqual(await sub.poll({ maxRecords: 1, maxWaitMs: 0 }), []);
    const total = subs.reduce((n, s) => n + s.assignment().length, 0);
    if ((total === partitions && subs.every((s) => s.assignment().length > 0)) || Date.now() > deadline)
      return;
    await sleep(20);
  }
}

/** Publishes `n` records with keys `k0…` and values `${tag}-i`, one batch. */
export async function publishMany(
  t: Transport,
  topic: string,
  n: number,
  tag: string,
): Promise<PublishAck[]> {
  return t.publish(Array.from({ length: n }, (_, i) => rec(topic, `k${i}`, `${tag}-${i}`)));
}

export async function assertRejects(
  promise: Promise<unknown>,
  code: string,
  retryable?: boolean,
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.equal((error as { code?: unknown }).code, code, `expected code ${code}, got ${String(error)}`);
    if (retryable !== undefined) assert.equal((error as { retryable?: unknown }).retryable, retryable);
    return true;
  });
}

/** What every group of cases gets from {@link runTransportConformance}: its `test` and `ensure`, and the options. */
export interface SuiteContext {
  readonly name: string;
  readonly options: TransportConformanceOptions;
  readonly test: (title: string, fn: (ctx: Ctx) => Promise<void>) => void;
  readonly ensure: (
    t: Transport,
    topic: string,
    kind: TopicSpec['kind'],
    partitions: number,
    retentionMs?: number,
  ) => Promise<void>;
  readonly sessionTimeoutMs: number;
  readonly maxPayloadBytes: number;
  readonly wakeLatencyMs: number;
  readonly messageRetentionMs: number;
  readonly ackedStoredBatches: number;
}
