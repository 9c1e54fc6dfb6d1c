import type { TopicKind } from '../contracts/define-topic.js';
import { decodeEnvelope } from '../envelope/codec.js';
import type { Envelope, SequenceKind } from '../envelope/envelope.js';
import { errorCode, errorMessage, isDatabaseUnavailable, SluiceError } from '../errors.js';
import type { ChainCheck } from '../inbox/chain-check.js';
import type { BatchOutcome } from '../inbox/inbox-store.js';
import type { ConsumedRecord } from '../transport/records.js';
import type { Subscription } from '../transport/subscription.js';
import { backoffDelay } from '../util/backoff.js';
import { isPermanent, retrying } from '../util/retrying.js';
import { sleep } from '../util/sleep.js';
import {
  type ConsumeOptions,
  type ResolvedConsumeOptions,
  resolveConsumeOptions,
} from './consumer-options.js';
import type { ConsumerStats } from './consumer-stats.js';
import { deadLetterRecord, REDRIVEN_HEADER } from './dead-letter.js';
import type { ConsumedEvent, Handler } from './handler.js';
import { judgeSequence, type SequenceVerdict } from './sequence-rule.js';
import { toEvent } from './to-event.js';

/** Longest wait between tries while the consumer's database is unreachable. */
const UNAVAILABLE_MAX_WAIT_MS = 2000;

/** How often a key still held for a gap is logged again (its first detection is always logged). */
const HELD_LOG_INTERVAL_MS = 60_000;

/** An event ready for its handler. */
interface Prepared<Tx> {
  readonly kind: 'apply';
  readonly item: Item;
  readonly envelope: Envelope;
  readonly handler: Handler<Tx>;
  readonly event: ConsumedEvent;
}

/** Why a record is not handed to a handler. */
type Unapplied =
  | { readonly kind: 'skip'; readonly reason: string; readonly envelope?: Envelope }
  | {
      readonly kind: 'dead-letter';
      readonly error: { code: string; message: string };
      readonly envelope?: Envelope;
    };

/** What the chain check needs of an event: a `ConsumedEvent`, or an envelope's attributes (see `chainEventOf`). */
interface ChainEvent {
  readonly id: string;
  readonly source: string;
  readonly key: string;
  readonly sequence: number;
  readonly sequenceKind: SequenceKind;
}

/** One delivered record while the consumer holds it. */
interface Item {
  readonly record: ConsumedRecord;
  attempts: number;
  nextAttemptAt: number;
  done: boolean;
  /** The handler failed for good; only the dead-letter publish remains (retried if the transport is down). */
  deadLetter?: { code: string; message: string };
  /** What the inbox's chain check found on the last try, when something was wrong. */
  verdict?: SequenceVerdict | undefined;
  /** Held for a gap or order: how many checks refused it, and when that was last logged. */
  held?: { checks: number; loggedAt: number };
}

/**
 * Runs handlers for a consumer group. Each event's handler and its inbox record commit in one transaction of
 * the consumer's database, so a redelivered event is skipped. A failing event is retried with backoff while
 * later events of its key wait and other keys flow on; after the last attempt it goes to the dead-letter topic.
 * Positions are committed only up to the first event not yet settled, so a crash redelivers, never skips.
 */
export class Consumer<Tx> {
  readonly #o: ResolvedConsumeOptions<Tx>;
  readonly #handlers = new Map<string, Handler<Tx>>();
  readonly #knownTypes = new Map<string, number[]>();
  readonly #abort = new AbortController();
  /** Per topic and partition, items in offset order until committed. */
  readonly #partitions = new Map<string, Map<number, Item[]>>();
  /**
   * Per topic and key, items not yet settled, in order; the head is the one allowed to run. Maps within maps,
   * not one map by a joined string: no string is built per record.
   */
  readonly #keys = new Map<string, Map<string, Item[]>>();
  #ready: Item[] = [];
  #delayed: Item[] = [];
  #buffered = 0;
  #running: Promise<void> | undefined;
  #committedAt = 0;
  /** Records settled since the last commit. */
  #pendingCommit = 0;
  #stats = { applied: 0, duplicates: 0, retries: 0, deadLettered: 0, skipped: 0, gaps: 0 };
  /** Items held for a gap or order (`onGap: 'hold'`): each is the head of its key. */
  #held = new Set<Item>();
  /** Each subscribed topic's kind. */
  readonly #topicKinds = new Map<string, TopicKind>();
  /** Whether the inbox tracks this group's chains from their first event (see `InboxStore.startGroup`). */
  #fromStart = false;
  /** Consecutive inbox calls that found the consumer's database unreachable. */
  #unavailable = 0;

  constructor(options: ConsumeOptions<Tx>) {
    this.#o = resolveConsumeOptions(options);
    for (const h of this.#o.handlers) {
      this.#handlers.set(h.contract.dataschema, h);
      const versions = this.#knownTypes.get(h.contract.type) ?? [];
      versions.push(h.contract.version);
      this.#knownTypes.set(h.contract.type, versions);
      this.#topicKinds.set(h.contract.topic.name, h.contract.topic.kind);
    }
  }

  /** Joins the group and starts consuming in the background. Idempotent. */
  start(): this {
    this.#running ??= this.#run().catch((error: unknown) => {
      this.#o.logger.error('consumer stopped on an unexpected error', {
        code: errorCode(error),
        error: errorMessage(error),
      });
      throw error;
    });
    return this;
  }

  /** Resolves when the consumer has stopped; rejects if it died. */
  get done(): Promise<void> {
    return this.#running ?? Promise.resolve();
  }

  /** Finishes the event in flight, commits what is settled, leaves the group. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#running;
  }

  stats(): ConsumerStats {
    return {
      ...this.#stats,
      buffered: this.#buffered,
      waitingKeys: this.#delayed.length,
      heldKeys: this.#held.size,
    };
  }

  async #run(): Promise<void> {
    const o = this.#o;
    const signal = this.#abort.signal;
    const topics = [...new Set(o.handlers.map((h) => h.contract.topic.name))];
    // The broker may be briefly away (restarting, electing a leader, loading its data): wait for it; a permanent
    // refusal (a topic declared with another kind) stops the consumer with its message.
    const untilDone = <T>(what: string, fn: () => Promise<T>) =>
      retrying(fn, o.backoff, signal, (error, attempt, delayMs) =>
        o.logger.warn(`${what} failed; retrying`, {
          group: o.group,
          code: errorCode(error),
          error: errorMessage(error),
          attempt,
          delayMs,
        }),
      );
    let sub: Subscription;
    try {
      for (const spec of new Map(o.handlers.map((h) => [h.contract.topic.name, h.contract.topic])).values()) {
        await untilDone('creating a topic', () => o.transport.ensureTopic(spec));
      }
      await untilDone('creating the dead-letter topic', () =>
        o.transport.ensureTopic({ name: o.deadLetterTopic, kind: 'event', partitions: 1 }),
      );
      // A new group reading every topic from its beginning sees every chain from its first event; a group that
      // applied events before (perhaps before chains were kept), starts at the latest offset or replays does not.
      const fromStart = o.startFrom === 'earliest' && o.replay === undefined;
      this.#fromStart = await untilDone('starting the group in the inbox', () =>
        o.inbox.startGroup(o.group, fromStart),
      );
      if (o.replay) {
        const target = o.replay;
        for (const t of topics) await untilDone('replay', () => o.transport.resetOffsets(o.group, t, target));
      }
      sub = await untilDone('joining the group', () =>
        o.transport.subscribe({
          group: o.group,
          topics,
          startFrom: o.startFrom,
          ...(o.memberId === undefined ? {} : { memberId: o.memberId }),
        }),
      );
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
    let pollFailures = 0;
    try {
      while (!signal.aborted) {
        this.#promoteDue();
        if (this.#buffered < o.maxBuffered) {
          const wait = this.#ready.length > 0 ? 0 : Math.min(this.#untilNextCommit(), this.#untilNextRetry());
          let records: ConsumedRecord[];
          try {
            records = await sub.poll({
              maxRecords: Math.min(1000, o.maxBuffered - this.#buffered),
              maxWaitMs: wait,
              signal,
            });
            pollFailures = 0;
          } catch (error) {
            // The broker went away mid-stream: records already buffered are still processed; poll again later.
            if (isPermanent(error)) throw error;
            const delayMs = backoffDelay(o.backoff, ++pollFailures);
            o.logger.warn('polling failed; retrying', {
              group: o.group,
              code: errorCode(error),
              error: errorMessage(error),
              attempt: pollFailures,
              delayMs,
            });
            records = [];
            if (this.#ready.length === 0) await sleep(delayMs, signal);
          }
          this.#dropRevoked(sub);
          for (const r of records) this.#enqueue(r);
          this.#promoteDue();
        } else if (this.#ready.length === 0) {
          // The buffer is full and nothing is ready. Settled records leave the buffer only when committed: commit
          // now instead of waiting for the interval, which this branch never reaches (without it, a full buffer
          // of settled records stalls the consumer for good).
          if (this.#pendingCommit > 0) await this.#commitOrWarn(sub);
          else await sleep(Math.min(1000, this.#untilNextRetry()), signal);
          continue;
        }
        while (this.#ready.length > 0 && !signal.aborted) await this.#processReady();
        if (Date.now() - this.#committedAt >= o.commitIntervalMs) await this.#commitOrWarn(sub);
      }
    } finally {
      await this.#commit(sub).catch(() => undefined);
      await sub.close();
    }
  }

  #enqueue(record: ConsumedRecord): void {
    const item: Item = { record, attempts: 0, nextAttemptAt: 0, done: false };
    let partitions = this.#partitions.get(record.topic);
    if (partitions === undefined) {
      partitions = new Map();
      this.#partitions.set(record.topic, partitions);
    }
    const inPartition = partitions.get(record.partition);
    if (inPartition) inPartition.push(item);
    else partitions.set(record.partition, [item]);
    this.#buffered++;
    if (this.#o.keyOrdering === 'none') {
      this.#ready.push(item);
      return;
    }
    let keys = this.#keys.get(record.topic);
    if (keys === undefined) {
      keys = new Map();
      this.#keys.set(record.topic, keys);
    }
    const queue = keys.get(record.key);
    if (queue) {
      queue.push(item);
      const head = queue[0]!;
      if (this.#held.has(head) && this.#isMissing(head, item)) this.#runFirst(head, item, queue);
    } else {
      keys.set(record.key, [item]);
      this.#ready.push(item);
    }
  }

  /** Settles an item: marks it done and lets the next event of its key run. */
  #settle(item: Item): void {
    item.done = true;
    this.#pendingCommit++;
    const { record } = item;
    if (this.#o.keyOrdering === 'none') return;
    const keys = this.#keys.get(record.topic);
    const queue = keys?.get(record.key);
    if (!queue) return;
    queue.shift();
    const next = queue[0];
    if (next === undefined) keys!.delete(record.key);
    else if (next.nextAttemptAt <= Date.now()) this.#ready.push(next);
    else this.#delayed.push(next);
  }

  /**
   * Processes the ready events: in one inbox transaction when the inbox can batch and several are ready (they
   * are of different keys: a key's next event becomes ready only once its previous one settled), else one by
   * one.
   */
  async #processReady(): Promise<void> {
    const { inbox, maxBatch } = this.#o;
    if (inbox.runBatch === undefined || maxBatch <= 1 || this.#ready.length === 1) {
      return this.#process(this.#ready.shift()!);
    }
    const batch: Prepared<Tx>[] = [];
    // With keyOrdering `none` two events of a key may be ready together; a batch holds one event per chain.
    const keys = this.#o.keyOrdering === 'none' ? new Set<string>() : undefined;
    while (this.#ready.length > 0 && batch.length < maxBatch) {
      const item = this.#ready.shift()!;
      if (keys) {
        const key = `${item.record.topic}\u0000${item.record.key}`;
        if (keys.has(key)) {
          this.#ready.unshift(item);
          break;
        }
        keys.add(key);
      }
      const prepared = this.#prepare(item);
      if (prepared.kind === 'apply') batch.push(prepared);
      else await this.#settleUnapplied(item, prepared);
    }
    if (batch.length === 1) return this.#apply(batch[0]!);
    if (batch.length > 1) await this.#applyBatch(batch);
  }

  async #process(item: Item): Promise<void> {
    const prepared = this.#prepare(item);
    if (prepared.kind === 'apply') return this.#apply(prepared);
    return this.#settleUnapplied(item, prepared);
  }

  /** Decodes and validates a record and finds its handler, or says why it cannot be applied. */
  #prepare(item: Item): Prepared<Tx> | Unapplied {
    if (item.deadLetter) return { kind: 'dead-letter', error: item.deadLetter };
    const { record } = item;
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(record.value);
    } catch (error) {
      if (record.value === null) return { kind: 'skip', reason: 'tombstone' };
      return { kind: 'dead-letter', error: { code: errorCode(error), message: errorMessage(error) } };
    }
    const handler = this.#handlers.get(envelope.dataschema);
    if (!handler) {
      const versions = this.#knownTypes.get(envelope.type);
      if (versions || this.#o.onUnknownType === 'dead-letter') {
        const message = versions
          ? `no handler for ${envelope.type} with dataschema ${envelope.dataschema}; this consumer handles version(s) ${versions.join(', ')}`
          : `no handler for event type ${envelope.type}`;
        return { kind: 'dead-letter', error: { code: 'SLUICE_NO_HANDLER', message }, envelope };
      }
      return { kind: 'skip', reason: `no handler for ${envelope.type}`, envelope };
    }
    try {
      return { kind: 'apply', item, envelope, handler, event: toEvent(handler.contract, envelope, record) };
    } catch (error) {
      return {
        kind: 'dead-letter',
        error: { code: errorCode(error), message: errorMessage(error) },
        envelope,
      };
    }
  }

  /**
   * Skips or dead-letters an event. One with an envelope is still part of its chain (the outbox numbers every
   * type of a key): its sequence is checked for a gap and stored first, so the next event of the key follows it.
   */
  async #settleUnapplied(item: Item, how: Unapplied): Promise<void> {
    if (how.kind === 'dead-letter') return this.#deadLetter(item, how.error, how.envelope);
    if (how.envelope && !(await this.#passChain(item, chainEventOf(how.envelope)))) return;
    this.#skip(item, how.reason);
  }

  /** Runs one event's handler in its own inbox transaction. */
  async #apply(p: Prepared<Tx>): Promise<void> {
    const { item, handler, event } = p;
    item.attempts++;
    try {
      const status = await this.#o.inbox.runOnce(
        this.#o.group,
        event.id,
        (tx) => handler.fn(event, { tx, attempt: item.attempts }),
        this.#chainCheck(item, event, false),
      );
      if (status === 'refused') this.#hold(item, event);
      else this.#applied(p, status);
    } catch (error) {
      await this.#failed(p, error);
    }
  }

  /**
   * Runs several events' handlers in one inbox transaction. If the transaction as a whole fails (the
   * database unreachable), runs them one by one instead, where each failure is handled on its own.
   */
  async #applyBatch(batch: readonly Prepared<Tx>[]): Promise<void> {
    for (const p of batch) p.item.attempts++;
    let outcomes: BatchOutcome[];
    try {
      outcomes = await this.#o.inbox.runBatch!(
        this.#o.group,
        batch.map((p) => ({
          eventId: p.event.id,
          apply: (tx: Tx) => p.handler.fn(p.event, { tx, attempt: p.item.attempts }),
          chain: this.#chainCheck(p.item, p.event, false),
        })),
      );
    } catch {
      for (const p of batch) p.item.attempts--;
      for (const p of batch) await this.#apply(p);
      return;
    }
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i]!;
      const outcome = outcomes[i]!;
      if (outcome.status === 'failed') await this.#failed(p, outcome.error);
      else if (outcome.status === 'refused') this.#hold(p.item, p.event);
      else this.#applied(p, outcome.status);
    }
  }

  #applied(p: Prepared<Tx>, status: 'applied' | 'duplicate'): void {
    const { item, event } = p;
    if (status === 'applied') this.#stats.applied++;
    else this.#stats.duplicates++;
    this.#unavailable = 0;
    this.#passed(item, event, status === 'applied');
    this.#settle(item);
    this.#o.onOutcome?.({ kind: status, event, attempt: item.attempts });
  }

  /**
   * The inbox's check of an event's chain (its source, topic and key), run inside its transaction with the
   * chain's stored last sequence. Remembers on the item what it found; under `onGap: 'hold'` refuses an event
   * with a gap before it, and one out of order unless it is not to be applied (`unapplied`: a skipped or
   * dead-lettered event out of order harms nothing) or the consumer replays. Not checked: events without key order (`keyOrdering:
   * 'none'`: they run out of order on purpose) and redriven dead letters (behind their chain on purpose).
   */
  #chainCheck(item: Item, event: ChainEvent, unapplied: boolean): ChainCheck | undefined {
    if (this.#o.keyOrdering === 'none' || item.record.headers[REDRIVEN_HEADER] !== undefined)
      return undefined;
    const topic = item.record.topic;
    const fromFirst =
      this.#fromStart && event.sequenceKind === 'counter' && this.#topicKinds.get(topic) === 'event';
    return {
      source: event.source,
      topic,
      key: event.key,
      check: (last) => {
        const verdict = judgeSequence(event.sequenceKind, last, event.sequence, fromFirst);
        // Out of order is no alarm for an event that is not applied, nor in a replay: the group went back on
        // purpose, and an event behind its chain that the inbox did not record was skipped or dead-lettered
        // the first time; it is tried again as it was then, without moving the chain back.
        const lenient = unapplied || this.#o.replay !== undefined;
        const problem = lenient && verdict.problem === 'out-of-order' ? undefined : verdict.problem;
        item.verdict = problem === undefined ? undefined : verdict;
        return problem !== undefined && this.#o.onGap === 'hold' ? undefined : verdict.next;
      },
    };
  }

  /**
   * Checks and stores the chain of an event settled without applying it; false when it is held (or the
   * database is away: then it is tried again later).
   */
  async #passChain(item: Item, event: ChainEvent): Promise<boolean> {
    const chain = this.#chainCheck(item, event, true);
    if (chain === undefined) return true;
    let status: 'passed' | 'refused';
    try {
      status = await this.#o.inbox.passChain(this.#o.group, chain);
    } catch (error) {
      this.#unavailable++;
      const delayMs = Math.min(UNAVAILABLE_MAX_WAIT_MS, backoffDelay(this.#o.backoff, this.#unavailable));
      this.#o.logger.warn('storing the sequence of an event that is not applied failed; retrying', {
        group: this.#o.group,
        id: event.id,
        key: event.key,
        delayMs,
        code: errorCode(error),
        error: errorMessage(error),
      });
      item.nextAttemptAt = Date.now() + delayMs;
      this.#delayed.push(item);
      return false;
    }
    this.#unavailable = 0;
    if (status === 'refused') {
      this.#hold(item, event);
      return false;
    }
    this.#passed(item, event, true);
    return true;
  }

  /** An event got past its chain check: reports a problem let through (`continue`), releases a held key. */
  #passed(item: Item, event: ChainEvent, checked: boolean): void {
    if (checked && item.verdict && !item.held) this.#reportGap(item, event, item.verdict, 'continued');
    if (item.held && this.#held.delete(item)) {
      this.#o.logger.warn('a held event got past its chain check; its key flows again', {
        ...this.#gapFields(item, event, item.verdict),
      });
    }
    item.verdict = undefined;
  }

  /**
   * The inbox refused an event (`onGap: 'hold'`): it stays at the head of its key, unsettled (so later events
   * of the key wait and positions are not committed past it), and is checked again with backoff. Reported
   * once; logged again at most every minute while held. If the event the chain misses is already waiting
   * behind it (re-published), that one runs first.
   */
  #hold(item: Item, event: ChainEvent): void {
    const verdict = item.verdict;
    if (item.attempts > 0) item.attempts--; // not the handler's failure: never dead-lettered for it
    this.#unavailable = 0;
    const now = Date.now();
    if (!item.held) {
      item.held = { checks: 0, loggedAt: now };
      this.#held.add(item);
      if (verdict) this.#reportGap(item, event, verdict, 'held');
    } else if (now - item.held.loggedAt >= HELD_LOG_INTERVAL_MS) {
      item.held.loggedAt = now;
      this.#o.logger.error('event still held: its chain has a gap or is out of order', {
        ...this.#gapFields(item, event, verdict),
        checks: item.held.checks,
      });
    }
    item.held.checks++;
    item.nextAttemptAt = now + backoffDelay(this.#o.backoff, item.held.checks);
    if (verdict?.problem === 'gap') {
      const queue = this.#keys.get(item.record.topic)?.get(item.record.key);
      const missing = queue?.find((other, i) => i > 0 && this.#isMissing(item, other));
      if (queue && missing) {
        this.#runFirst(item, missing, queue);
        return;
      }
    }
    this.#delayed.push(item);
  }

  #reportGap(item: Item, event: ChainEvent, verdict: SequenceVerdict, action: 'held' | 'continued'): void {
    this.#stats.gaps++;
    const { record } = item;
    const what =
      verdict.problem === 'gap'
        ? `sequence gap: expected ${verdict.expected}, received ${verdict.received}`
        : `out of order: expected ${event.sequenceKind === 'counter' ? '' : 'at least '}${verdict.expected}, received ${verdict.received}`;
    const doing =
      action === 'held'
        ? 'the event is held and its key waits (onGap: hold); re-publish the missing event, or see "Gaps and order" in the README'
        : 'going on (onGap: continue)';
    this.#o.logger.error(
      `${what} on ${record.topic} partition ${record.partition} offset ${record.offset} key ${event.key}: ${doing}`,
      this.#gapFields(item, event, verdict),
    );
    this.#o.onOutcome?.({
      kind: 'gap',
      record,
      id: event.id,
      key: event.key,
      source: event.source,
      problem: verdict.problem!,
      expected: verdict.expected!,
      received: verdict.received,
      action,
    });
  }

  #gapFields(item: Item, event: ChainEvent, verdict: SequenceVerdict | undefined) {
    const { record } = item;
    return {
      group: this.#o.group,
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      key: event.key,
      source: event.source,
      id: event.id,
      problem: verdict?.problem,
      expected: verdict?.expected,
      received: event.sequence,
      policy: this.#o.onGap,
    };
  }

  /** Whether `other` (queued behind the held `held`) is the event `held`'s chain is missing. */
  #isMissing(held: Item, other: Item): boolean {
    const verdict = held.verdict;
    if (verdict?.problem !== 'gap' || other.record.value === null) return false;
    try {
      const mine = decodeEnvelope(held.record.value);
      const theirs = decodeEnvelope(other.record.value);
      return (
        theirs.sluiceseq === verdict.expected &&
        theirs.source === mine.source &&
        theirs.subject === mine.subject &&
        (theirs.sluiceseqkind ?? 'position') === 'counter'
      );
    } catch {
      return false;
    }
  }

  /** Moves `missing` to the head of its key, before the held event, and lets it run; the held one follows. */
  #runFirst(held: Item, missing: Item, queue: Item[]): void {
    queue.splice(queue.indexOf(missing), 1);
    queue.unshift(missing);
    this.#delayed = this.#delayed.filter((i) => i !== held);
    this.#ready = this.#ready.filter((i) => i !== held);
    held.nextAttemptAt = 0;
    this.#ready.push(missing);
    this.#o.logger.warn('the missing event of a held key arrived; applying it first', {
      group: this.#o.group,
      topic: missing.record.topic,
      partition: missing.record.partition,
      offset: missing.record.offset,
      key: missing.record.key,
      sequence: held.verdict?.expected,
    });
  }

  /** A handler (or the inbox) failed: wait for the database, retry with backoff, or dead-letter. */
  async #failed(p: Prepared<Tx>, error: unknown): Promise<void> {
    const { item, envelope, event } = p;
    const { record } = item;
    if (isDatabaseUnavailable(error) || (error instanceof SluiceError && error.code === 'SLUICE_BUSY')) {
      // The consumer's own database is down or restarting, or Sluice's own statements met a deadlock or lock
      // timeout (a handler's own errors are never SLUICE_BUSY: stores rethrow them unchanged): not the event's
      // fault. Wait for it (the key's later events wait too) without spending an attempt.
      item.attempts--;
      this.#unavailable++;
      const delayMs = Math.min(UNAVAILABLE_MAX_WAIT_MS, backoffDelay(this.#o.backoff, this.#unavailable));
      this.#o.logger.warn("the consumer's database is unavailable or busy; waiting for it", {
        group: this.#o.group,
        id: envelope.id,
        key: record.key,
        delayMs,
        error: errorMessage(error),
      });
      item.nextAttemptAt = Date.now() + delayMs;
      this.#delayed.push(item);
      this.#o.onOutcome?.({ kind: 'retry', event, attempt: item.attempts, error, delayMs });
      return;
    }
    const permanent = isPermanent(error);
    if (permanent || item.attempts >= this.#o.maxAttempts) {
      return this.#deadLetter(item, { code: errorCode(error), message: errorMessage(error) }, envelope);
    }
    const delayMs = backoffDelay(this.#o.backoff, item.attempts);
    this.#stats.retries++;
    this.#o.logger.warn('handler failed; will retry', {
      group: this.#o.group,
      id: envelope.id,
      type: envelope.type,
      key: record.key,
      attempt: item.attempts,
      delayMs,
      code: errorCode(error),
      error: errorMessage(error),
    });
    item.nextAttemptAt = Date.now() + delayMs;
    this.#delayed.push(item);
    this.#o.onOutcome?.({ kind: 'retry', event, attempt: item.attempts, error, delayMs });
  }

  async #deadLetter(item: Item, error: { code: string; message: string }, known?: Envelope): Promise<void> {
    item.deadLetter = error;
    const { record } = item;
    let envelope = known;
    if (envelope === undefined && record.value !== null) {
      try {
        envelope = decodeEnvelope(record.value);
      } catch {
        // malformed: keep the position as its id
      }
    }
    const eventId = envelope?.id ?? `${record.topic}/${record.partition}/${record.offset}`;
    // Stored before the publish: a retried publish (or a redelivery after a crash) finds it at or below the
    // chain's last sequence, which an event not applied may be.
    if (envelope && !(await this.#passChain(item, chainEventOf(envelope)))) return;
    const attempts = Math.max(1, item.attempts);
    try {
      await this.#o.transport.publish([
        deadLetterRecord(this.#o.deadLetterTopic, this.#o.group, record, eventId, error, attempts),
      ]);
    } catch (publishError) {
      // The dead-letter topic is unreachable: keep the record (and its key) waiting, try again later.
      item.nextAttemptAt = Date.now() + backoffDelay(this.#o.backoff, ++item.attempts);
      this.#delayed.push(item);
      this.#o.logger.error('could not publish to the dead-letter topic; will retry', {
        topic: this.#o.deadLetterTopic,
        code: errorCode(publishError),
        error: errorMessage(publishError),
      });
      return;
    }
    this.#stats.deadLettered++;
    this.#o.logger.error('event dead-lettered', {
      group: this.#o.group,
      id: eventId,
      topic: record.topic,
      key: record.key,
      attempts,
      ...error,
    });
    this.#settle(item);
    this.#o.onOutcome?.({ kind: 'dead-lettered', record, attempts, error });
  }

  #skip(item: Item, reason: string): void {
    const { record } = item;
    this.#stats.skipped++;
    this.#settle(item);
    this.#o.onOutcome?.({ kind: 'skipped', record, reason });
  }

  #promoteDue(): void {
    if (this.#delayed.length === 0) return;
    const now = Date.now();
    const still: Item[] = [];
    for (const item of this.#delayed) (item.nextAttemptAt <= now ? this.#ready : still).push(item);
    this.#delayed = still;
  }

  /** Time until settled positions should be committed; long when there is nothing to commit. */
  #untilNextCommit(): number {
    if (this.#buffered === 0 || this.#pendingCommit === 0) return 1000;
    return Math.max(0, this.#o.commitIntervalMs - (Date.now() - this.#committedAt));
  }

  #untilNextRetry(): number {
    let next = Number.POSITIVE_INFINITY;
    for (const item of this.#delayed) next = Math.min(next, item.nextAttemptAt);
    return Math.max(0, next - Date.now());
  }

  /**
   * Commits, and if the broker is briefly away says so and goes on: the positions are committed by a later
   * commit (each covers every record before it), and until then a crash only redelivers what the inbox skips.
   */
  async #commitOrWarn(sub: Subscription): Promise<void> {
    try {
      await this.#commit(sub);
    } catch (error) {
      if (isPermanent(error)) throw error;
      this.#o.logger.warn('committing positions failed; a later commit covers them', {
        group: this.#o.group,
        code: errorCode(error),
        error: errorMessage(error),
      });
    }
  }

  /** Commits, per partition, the last record of the settled prefix. */
  async #commit(sub: Subscription): Promise<void> {
    this.#committedAt = Date.now();
    this.#pendingCommit = 0;
    const positions: ConsumedRecord[] = [];
    for (const partitions of this.#partitions.values()) {
      for (const items of partitions.values()) {
        let n = 0;
        while (n < items.length && items[n]!.done) n++;
        if (n === 0) continue;
        positions.push(items[n - 1]!.record);
        items.splice(0, n);
        this.#buffered -= n;
      }
    }
    if (positions.length > 0) await sub.commit(positions);
  }

  /** Forgets records of partitions this member no longer owns; their new owner reads them again. */
  #dropRevoked(sub: Subscription): void {
    const owned = new Set(sub.assignment().map((tp) => `${tp.topic}\u0000${tp.partition}`));
    let dropped = false;
    for (const [topic, partitions] of this.#partitions) {
      for (const [partition, items] of partitions) {
        if (owned.has(`${topic}\u0000${partition}`)) continue;
        partitions.delete(partition);
        this.#buffered -= items.length;
        dropped = true;
      }
    }
    if (!dropped) return;
    const live = (item: Item) => owned.has(`${item.record.topic}\u0000${item.record.partition}`);
    this.#ready = this.#ready.filter(live);
    this.#delayed = this.#delayed.filter(live);
    for (const item of this.#held) if (!live(item)) this.#held.delete(item);
    for (const keys of this.#keys.values()) {
      for (const [key, queue] of keys) {
        const kept = queue.filter(live);
        if (kept.length === 0) keys.delete(key);
        else keys.set(key, kept);
      }
    }
  }
}

/** The chain check's view of an envelope: the key is its subject, an absent sequence kind reads as `position`. */
function chainEventOf(envelope: Envelope): ChainEvent {
  return {
    id: envelope.id,
    source: envelope.source,
    key: envelope.subject,
    sequence: envelope.sluiceseq,
    sequenceKind: envelope.sluiceseqkind ?? 'position',
  };
}

/** Starts a consumer: `consume({ transport, group, inbox, handlers })`. Stop it with `await consumer.stop()`. */
export function createConsumer<Tx>(options: ConsumeOptions<Tx>): Consumer<Tx> {
  return new Consumer(options).start();
}
