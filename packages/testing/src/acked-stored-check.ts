import type { ConsumedRecord, OutgoingRecord, PublishAck, Transport } from '@sluice/core';

/**
 * "Acknowledged means stored": concurrent publishers write numbered records to a topic at full rate, each
 * acknowledgement is recorded (id, partition, offset), and afterwards what the topic holds is compared with
 * them. Shared by the transport conformance suite (no faults: every record acknowledged once, nothing else
 * stored) and the broker fault tests (a broker restarted mid-stream: publishers retry a failed batch, so a
 * retried record may be stored twice, but every acknowledged one must sit where its ack said).
 */

/** One acknowledged record: where the transport said it stored it. */
export interface AckedRecord {
  readonly id: string;
  readonly publisher: number;
  readonly key: string;
  /** Position of the record among its publisher's records of this key, from 0. */
  readonly seq: number;
  readonly partition: number;
  readonly offset: string;
}

export interface AckedStoredPublishOptions {
  readonly transport: Transport;
  readonly topic: string;
  /** Concurrent publishers. Default 4. */
  readonly publishers?: number;
  /** Number of the first publisher (a second process continuing a run numbers its own apart). Default 0. */
  readonly firstPublisher?: number;
  /** Records per publish() call. Default 250. */
  readonly batchSize?: number;
  /** Distinct keys the records spread over. Default 240. */
  readonly keys?: number;
  /** Batches each publisher sends; unlimited (until `stop()`) when unset. */
  readonly batchesPerPublisher?: number;
  /** Retry a batch whose publish() rejected with a retryable error (same ids, whole batch). Default false. */
  readonly retry?: boolean;
  /** Pause before retrying a failed batch. Default 100 ms. */
  readonly retryDelayMs?: number;
  /** A batch still failing after this long stops its publisher with the error. Default 60000 ms. */
  readonly retryForMs?: number;
  /** Prefix of the record ids, unique per run. */
  readonly tag: string;
}

/** What publishers did: every record handed to publish() and every acknowledgement. */
export interface PublishRun {
  readonly topic: string;
  /** Every record handed to publish() at least once, by id. */
  readonly published: Map<string, { publisher: number; key: string; seq: number }>;
  readonly acks: AckedRecord[];
  /** Failed publish() calls (each retried when `retry`). */
  failedPublishes: number;
  /** Errors that stopped a publisher (not retryable, or retried for too long). */
  readonly errors: unknown[];
  /** Time from the first publish to the last ack. */
  elapsedMs: number;
}

export interface Publishers {
  readonly run: PublishRun;
  /** Ends when every publisher has stopped (after `batchesPerPublisher` or `stop()`). */
  readonly done: Promise<PublishRun>;
  /** Asks publishers to stop after the batch each is publishing (a failing batch is retried to its ack). */
  stop(): void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The value of a check record: its id and its number among its publisher's records of the key. */
interface CheckValue {
  readonly id: string;
  readonly p: number;
  readonly seq: number;
}

function parseValue(value: string | null): CheckValue | undefined {
  if (value === null) return undefined;
  try {
    const v = JSON.parse(value) as Partial<CheckValue>;
    return typeof v.id === 'string' && typeof v.p === 'number' && typeof v.seq === 'number'
      ? (v as CheckValue)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts `publishers` concurrent publishers, each sending batches of `batchSize` records back to back (no
 * pause) over `keys` keys. Each record carries a unique id in its value and its record id.
 */
export function startPublishers(options: AckedStoredPublishOptions): Publishers {
  const count = options.publishers ?? 4;
  const batchSize = options.batchSize ?? 250;
  const keys = options.keys ?? 240;
  const retryDelayMs = options.retryDelayMs ?? 100;
  const retryForMs = options.retryForMs ?? 60_000;
  const run: PublishRun = {
    topic: options.topic,
    published: new Map(),
    acks: [],
    failedPublishes: 0,
    errors: [],
    elapsedMs: 0,
  };
  let stopped = false;
  const started = performance.now();
  const publisher = async (p: number) => {
    const nextSeq = new Map<string, number>();
    let n = 0;
    for (
      let b = 0;
      !stopped && (options.batchesPerPublisher === undefined || b < options.batchesPerPublisher);
      b++
    ) {
      const batch: OutgoingRecord[] = [];
      const seqs: number[] = [];
      for (let i = 0; i < batchSize; i++) {
        // Each publisher walks the keys from its own start, with a stride, so batches mix many keys.
        const key = `key-${(p * 61 + n * 7) % keys}`;
        const seq = nextSeq.get(key) ?? 0;
        nextSeq.set(key, seq + 1);
        const id = `${options.tag}-p${p}-${n++}`;
        run.published.set(id, { publisher: p, key, seq });
        seqs.push(seq);
        batch.push({
          topic: options.topic,
          key,
          id,
          value: JSON.stringify({ id, p, seq } satisfies CheckValue),
        });
      }
      const firstTry = Date.now();
      let acks: PublishAck[];
      for (;;) {
        try {
          acks = await options.transport.publish(batch);
          break;
        } catch (error) {
          run.failedPublishes++;
          const retryable = (error as { retryable?: unknown }).retryable === true;
          if (!options.retry || !retryable || Date.now() - firstTry > retryForMs) {
            run.errors.push(error);
            stopped = true;
            return;
          }
          await sleep(retryDelayMs);
        }
      }
      if (acks.length !== batch.length) {
        run.errors.push(new Error(`publish() of ${batch.length} records returned ${acks.length} acks`));
        stopped = true;
        return;
      }
      batch.forEach((r, i) => {
        const ack = acks[i]!;
        run.acks.push({
          id: r.id,
          publisher: p,
          key: r.key,
          seq: seqs[i]!,
          partition: ack.partition,
          offset: ack.offset,
        });
      });
      run.elapsedMs = performance.now() - started;
      // No pause, only a turn of the event loop: a transport that acks without I/O (in memory) would
      // otherwise never let a timer (the caller's stop or restart) run.
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const firstPublisher = options.firstPublisher ?? 0;
  const done = Promise.all(Array.from({ length: count }, (_, p) => publisher(firstPublisher + p))).then(
    () => run,
  );
  return {
    run,
    done,
    stop: () => {
      stopped = true;
    },
  };
}

/** Compares two offsets of one partition: decimal numbers, or Redis stream ids `ms-seq`; else as text. */
export function compareOffsets(a: string, b: string): number {
  const parts = (o: string) => (/^\d+(-\d+)?$/.test(o) ? o.split('-').map((x) => BigInt(x)) : undefined);
  const pa = parts(a);
  const pb = parts(b);
  if (pa === undefined || pb === undefined) return a < b ? -1 : a > b ? 1 : 0;
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? 0n;
    const y = pb[i] ?? 0n;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Records of one partition in offset order (each offset parsed once). */
function sortByOffset(records: ConsumedRecord[]): ConsumedRecord[] {
  if (records.every((r) => /^\d+$/.test(r.offset))) {
    return records
      .map((r) => [BigInt(r.offset), r] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, r]) => r);
  }
  return [...records].sort((a, b) => compareOffsets(a.offset, b.offset));
}

export interface AckedStoredVerdict {
  /** Acknowledged records whose position holds nothing. */
  readonly missing: AckedRecord[];
  /** Acknowledged positions that hold another record. */
  readonly misplaced: { ack: AckedRecord; found: string }[];
  /** Stored records that were never handed to publish(), or not check records at all. */
  readonly invented: ConsumedRecord[];
  /** Stored records at a position no ack named, of a record that was published (a retried batch's first try). */
  readonly unacknowledgedCopies: ConsumedRecord[];
  /** Records of one publisher and key stored out of publish order (first copies, in offset order). */
  readonly outOfOrder: string[];
  /** Keys acknowledged in more than one partition. */
  readonly splitKeys: string[];
  readonly stored: number;
}

const pos = (r: { partition: number; offset: string }) => `${r.partition}@${r.offset}`;
const first = <T>(list: T[], show: (x: T) => string, n = 5) =>
  `${list.slice(0, n).map(show).join(', ')}${list.length > n ? `, … (${list.length - n} more)` : ''}`;

/** Compares what the topic holds (`stored`, every partition from the start) with what was acknowledged. */
export function compareAckedStored(run: PublishRun, stored: readonly ConsumedRecord[]): AckedStoredVerdict {
  const byPosition = new Map<string, ConsumedRecord>();
  for (const r of stored) byPosition.set(pos(r), r);
  const ackedAt = new Map<string, AckedRecord>();
  for (const ack of run.acks) ackedAt.set(pos(ack), ack);
  const missing: AckedRecord[] = [];
  const misplaced: { ack: AckedRecord; found: string }[] = [];
  for (const ack of run.acks) {
    const r = byPosition.get(pos(ack));
    if (r === undefined) missing.push(ack);
    else {
      const v = parseValue(r.value);
      if (v?.id !== ack.id || r.key !== ack.key) misplaced.push({ ack, found: v?.id ?? String(r.value) });
    }
  }
  const invented: ConsumedRecord[] = [];
  const unacknowledgedCopies: ConsumedRecord[] = [];
  for (const r of byPosition.values()) {
    if (ackedAt.has(pos(r))) continue;
    const v = parseValue(r.value);
    if (v === undefined || !run.published.has(v.id)) invented.push(r);
    else unacknowledgedCopies.push(r);
  }
  // Per publisher and key, the first copy of each record, in offset order, must follow publish order.
  const partitions = new Map<number, ConsumedRecord[]>();
  for (const r of byPosition.values()) {
    const list = partitions.get(r.partition);
    if (list === undefined) partitions.set(r.partition, [r]);
    else list.push(r);
  }
  const outOfOrder: string[] = [];
  for (const [partition, unsorted] of partitions) {
    const records = sortByOffset(unsorted);
    const seen = new Set<string>();
    const last = new Map<string, number>();
    for (const r of records) {
      const v = parseValue(r.value);
      const meta = v === undefined ? undefined : run.published.get(v.id);
      if (v === undefined || meta === undefined || seen.has(v.id)) continue;
      seen.add(v.id);
      const stream = `publisher ${meta.publisher} key ${meta.key}`;
      const previous = last.get(stream) ?? -1;
      if (meta.seq <= previous)
        outOfOrder.push(`${stream}: #${meta.seq} (${v.id}) at ${partition}@${r.offset} after #${previous}`);
      last.set(stream, Math.max(previous, meta.seq));
    }
  }
  const partitionOfKey = new Map<string, Set<number>>();
  for (const ack of run.acks)
    partitionOfKey.set(ack.key, (partitionOfKey.get(ack.key) ?? new Set()).add(ack.partition));
  const splitKeys = [...partitionOfKey]
    .filter(([, ps]) => ps.size > 1)
    .map(([key, ps]) => `${key} in partitions ${[...ps].join(', ')}`);
  return { missing, misplaced, invented, unacknowledgedCopies, outOfOrder, splitKeys, stored: stored.length };
}

/**
 * The failures of a verdict as sentences naming what is wrong (counts and the first few ids with partition and
 * offset), empty when the check passed. `allowCopies` accepts stored records no ack names when they are copies
 * of published records (a retried batch's first try, at least once); the conformance case (no faults) does not.
 */
export function ackedStoredProblems(
  run: PublishRun,
  verdict: AckedStoredVerdict,
  allowCopies: boolean,
): string[] {
  const problems: string[] = [];
  const where = `topic ${run.topic}`;
  if (run.errors.length > 0)
    problems.push(`${run.errors.length} publisher(s) stopped on an error: ${first(run.errors, String, 3)}`);
  if (verdict.missing.length > 0)
    problems.push(
      `${verdict.missing.length} of ${run.acks.length} acknowledged records are missing from ${where} ` +
        `(acknowledged but not stored): ${first(verdict.missing, (a) => `${a.id} acked at ${pos(a)}`)}`,
    );
  if (verdict.misplaced.length > 0)
    problems.push(
      `${verdict.misplaced.length} acknowledged positions in ${where} hold another record: ` +
        first(verdict.misplaced, (m) => `${m.ack.id} acked at ${pos(m.ack)} but ${m.found} is there`),
    );
  if (verdict.invented.length > 0)
    problems.push(
      `${verdict.invented.length} records in ${where} were never published: ` +
        first(verdict.invented, (r) => `${pos(r)} ${String(r.value).slice(0, 80)}`),
    );
  if (!allowCopies && verdict.unacknowledgedCopies.length > 0)
    problems.push(
      `${verdict.unacknowledgedCopies.length} records in ${where} sit at positions no ack named (extra copies): ` +
        first(verdict.unacknowledgedCopies, (r) => `${parseValue(r.value)?.id} at ${pos(r)}`),
    );
  if (verdict.outOfOrder.length > 0)
    problems.push(
      `${verdict.outOfOrder.length} records out of publish order: ${first(verdict.outOfOrder, String)}`,
    );
  if (verdict.splitKeys.length > 0)
    problems.push(
      `${verdict.splitKeys.length} keys acknowledged in several partitions: ${first(verdict.splitKeys, String)}`,
    );
  return problems;
}

/** Reads every partition of `topic` from the start (at most `limit` records). */
export async function readAll(
  transport: Transport,
  topic: string,
  limit = 1_000_000,
): Promise<ConsumedRecord[]> {
  return transport.read(topic, { to: 'earliest' }, limit);
}

/** One line for a test's diagnostics. */
export function describeRun(run: PublishRun, verdict: AckedStoredVerdict): string {
  return (
    `${run.topic}: published ${run.published.size}, acknowledged ${run.acks.length} in ${Math.round(run.elapsedMs)} ms, ` +
    `${run.failedPublishes} failed publishes; stored ${verdict.stored}; missing ${verdict.missing.length}, ` +
    `misplaced ${verdict.misplaced.length}, invented ${verdict.invented.length}, ` +
    `unacknowledged copies ${verdict.unacknowledgedCopies.length}, out of order ${verdict.outOfOrder.length}`
  );
}
