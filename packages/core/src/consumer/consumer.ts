import type { TopicKind } from '../contracts/define-topic.js';
import { errorCode, errorMessage } from '../errors.js';
import type { BatchOutcome } from '../inbox/inbox-store.js';
import { endProcessSpan, type ProcessOutcome, startProcessSpan } from '../tracing/process-span.js';
import { inSpan } from '../tracing/span-scope.js';
import type { ConsumedRecord } from '../transport/records.js';
import type { Subscription } from '../transport/subscription.js';
import { backoffDelay } from '../util/backoff.js';
import { isPermanent } from '../util/retrying.js';
import { sleep } from '../util/sleep.js';
import { ChainGuard, type ConsumerCounters, newCounters } from './chain-guard.js';
import { ConsumerFailures } from './consumer-failures.js';
import { chainEventOf, type Item } from './consumer-item.js';
import {
  type ConsumeOptions,
  type ResolvedConsumeOptions,
  resolveConsumeOptions,
} from './consumer-options.js';
import type { ConsumerStats } from './consumer-stats.js';
import { DeprecationWatch } from './deprecation-watch.js';
import { isMissing } from './gap-report.js';
import { joinGroup } from './join-group.js';
import { KeyQueues } from './key-queues.js';
import {
  type HandlerIndex,
  indexHandlers,
  type Prepared,
  prepareRecord,
  type Unapplied,
} from './prepare-record.js';
import { timed } from './timed.js';

/**
 * Runs handlers for a consumer group. Each event's handler and its inbox record commit in one transaction of
 * the consumer's database, so a redelivered event is skipped. A failing event is retried with backoff while
 * later events of its key wait and other keys flow on; after the last attempt it goes to the dead-letter topic.
 * Positions are committed only up to the first event not yet settled, so a crash redelivers, never skips.
 */
export class Consumer<Tx> {
  readonly #o: ResolvedConsumeOptions<Tx>;
  readonly #handlers: HandlerIndex<Tx>;
  readonly #abort = new AbortController();
  readonly #queues: KeyQueues;
  #running: Promise<void> | undefined;
  #committedAt = 0;
  #joined = false;
  #partitions = 0;
  #failingSince: number | null = null;
  #lastError: { code: string; message: string } | null = null;
  readonly #counters: ConsumerCounters = newCounters();
  readonly #chains: ChainGuard<Tx>;
  readonly #failures: ConsumerFailures<Tx>;
  readonly #deprecations: DeprecationWatch;
  /** Each subscribed topic's kind. */
  readonly #topicKinds = new Map<string, TopicKind>();

  constructor(options: ConsumeOptions<Tx>) {
    this.#o = resolveConsumeOptions(options);
    this.#handlers = indexHandlers(this.#o.handlers, this.#o.onUnknownType, this.#o.upcasters);
    for (const { wire: c } of this.#handlers.routes.values())
      this.#topicKinds.set(c.topic.name, c.topic.kind);
    this.#deprecations = new DeprecationWatch(this.#handlers.routes, this.#o.logger, this.#o.group);
    this.#queues = new KeyQueues(this.#o.keyOrdering !== 'none', isMissing, (held, missing) =>
      this.#o.logger.warn('the missing event of a held key arrived; applying it first', {
        group: this.#o.group,
        topic: missing.record.topic,
        partition: missing.record.partition,
        offset: missing.record.offset,
        key: missing.record.key,
        sequence: held.verdict?.expected,
      }),
    );
    this.#chains = new ChainGuard(this.#o, this.#queues, this.#counters, this.#topicKinds);
    this.#failures = new ConsumerFailures(this.#o, this.#queues, this.#chains, this.#counters);
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
      ...this.#counters.stats,
      buffered: this.#queues.buffered,
      waitingKeys: this.#queues.delayedCount,
      heldKeys: this.#queues.held.size,
      joined: this.#joined,
      partitions: this.#partitions,
      failingSince: this.#failingSince,
      lastError: this.#lastError,
    };
  }

  async #run(): Promise<void> {
    const o = this.#o;
    const signal = this.#abort.signal;
    let sub: Subscription;
    try {
      const joined = await joinGroup(o, signal);
      this.#chains.fromStart = joined.fromStart;
      sub = joined.subscription;
      this.#joined = true;
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
    let pollFailures = 0;
    try {
      while (!signal.aborted) {
        const queues = this.#queues;
        queues.promoteDue();
        if (queues.buffered < o.maxBuffered) {
          const wait = queues.readyCount > 0 ? 0 : Math.min(this.#untilNextCommit(), queues.untilNextRetry());
          let records: ConsumedRecord[];
          try {
            records = await sub.poll({
              maxRecords: Math.min(1000, o.maxBuffered - queues.buffered),
              maxWaitMs: wait,
              signal,
            });
            pollFailures = 0;
            this.#failingSince = null;
            this.#lastError = null;
          } catch (error) {
            // The broker went away mid-stream: records already buffered are still processed; poll again later.
            if (isPermanent(error)) throw error;
            const delayMs = backoffDelay(o.backoff, ++pollFailures);
            this.#failingSince ??= Date.now();
            this.#lastError = { code: errorCode(error), message: errorMessage(error) };
            o.logger.warn('polling failed; retrying', {
              group: o.group,
              code: errorCode(error),
              error: errorMessage(error),
              attempt: pollFailures,
              delayMs,
            });
            records = [];
            if (queues.readyCount === 0) await sleep(delayMs, signal);
          }
          const assignment = sub.assignment();
          this.#partitions = assignment.length;
          queues.dropRevoked(assignment);
          for (const r of records) queues.enqueue(r);
          queues.promoteDue();
        } else if (queues.readyCount === 0) {
          // The buffer is full and nothing is ready. Settled records leave the buffer only when committed: commit
          // now instead of waiting for the interval, which this branch never reaches (without it, a full buffer
          // of settled records stalls the consumer for good).
          if (queues.pendingCommit > 0) await this.#commitOrWarn(sub);
          else await sleep(Math.min(1000, queues.untilNextRetry()), signal);
          continue;
        }
        while (queues.readyCount > 0 && !signal.aborted) await this.#processReady();
        if (Date.now() - this.#committedAt >= o.commitIntervalMs) await this.#commitOrWarn(sub);
      }
    } finally {
      await this.#commit(sub).catch(() => undefined);
      await sub.close();
    }
  }

  /**
   * Processes the ready events: in one inbox transaction when the inbox can batch and several are ready (they
   * are of different keys: a key's next event becomes ready only once its previous one settled), else one by
   * one.
   */
  async #processReady(): Promise<void> {
    const { inbox, maxBatch } = this.#o;
    const queues = this.#queues;
    if (inbox.runBatch === undefined || maxBatch <= 1 || queues.readyCount === 1) {
      return this.#process(queues.takeReady());
    }
    const batch: Prepared<Tx>[] = [];
    // With keyOrdering `none` two events of a key may be ready together; a batch holds one event per chain.
    const keys = this.#o.keyOrdering === 'none' ? new Set<string>() : undefined;
    while (queues.readyCount > 0 && batch.length < maxBatch) {
      const item = queues.takeReady();
      if (keys) {
        const key = `${item.record.topic}\u0000${item.record.key}`;
        if (keys.has(key)) {
          queues.putBack(item);
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

  /** Prepares a record (see `prepareRecord`); the first time, notices a deprecated version. */
  #prepare(item: Item): Prepared<Tx> | Unapplied {
    const prepared = prepareRecord(item, this.#handlers);
    if (prepared.envelope)
      this.#counters.stats.deprecatedReceived = this.#deprecations.notice(item, prepared.envelope);
    return prepared;
  }

  async #process(item: Item): Promise<void> {
    const prepared = this.#prepare(item);
    if (prepared.kind === 'apply') return this.#apply(prepared);
    return this.#settleUnapplied(item, prepared);
  }

  /**
   * Skips or dead-letters an event. One with an envelope is still part of its chain (the outbox numbers every
   * type of a key): its sequence is checked for a gap and stored first, so the next event of the key follows it.
   */
  async #settleUnapplied(item: Item, how: Unapplied): Promise<void> {
    if (how.kind === 'dead-letter') return this.#failures.deadLetter(item, how.error, how.envelope);
    if (how.envelope && !(await this.#chains.pass(item, chainEventOf(how.envelope)))) return;
    this.#failures.skip(item, how.reason);
  }

  /**
   * Runs one event's handler in its own inbox transaction, inside its span `"<topic> process"` (the inbox's
   * statements and the handler's own spans nest under it).
   */
  async #apply(p: Prepared<Tx>): Promise<void> {
    const { item, handler, event } = p;
    item.attempts++;
    const span = startProcessSpan(this.#o.group, event, item.attempts);
    let outcome: ProcessOutcome = 'retried';
    let failure: unknown;
    let handlerMs: number | undefined;
    try {
      const status = await inSpan(span, () =>
        this.#o.inbox.runOnce(
          this.#o.group,
          p.inboxId,
          (tx) =>
            timed(
              () => handler.fn(event, { tx, attempt: item.attempts }),
              (ms) => {
                handlerMs = ms;
              },
            ),
          this.#chains.check(item, event, false),
        ),
      );
      outcome = status === 'refused' ? 'held' : status;
      if (status === 'refused') this.#chains.hold(item, event);
      else this.#applied(p, status, status === 'applied' ? handlerMs : undefined);
    } catch (error) {
      failure = error;
      outcome = await this.#failures.failed(p, error);
    } finally {
      endProcessSpan(span, outcome, failure);
    }
  }

  /**
   * Runs several events' handlers in one inbox transaction. If the transaction as a whole fails (the
   * database unreachable), runs them one by one instead, where each failure is handled on its own.
   */
  async #applyBatch(batch: readonly Prepared<Tx>[]): Promise<void> {
    for (const p of batch) p.item.attempts++;
    const spans = batch.map((p) => startProcessSpan(this.#o.group, p.event, p.item.attempts));
    const handlerMs: (number | undefined)[] = batch.map(() => undefined);
    let outcomes: BatchOutcome[];
    try {
      outcomes = await this.#o.inbox.runBatch!(
        this.#o.group,
        batch.map((p, i) => ({
          eventId: p.inboxId,
          apply: (tx: Tx) =>
            inSpan(spans[i], () =>
              timed(
                () => p.handler.fn(p.event, { tx, attempt: p.item.attempts }),
                (ms) => {
                  handlerMs[i] = ms;
                },
              ),
            ),
          chain: this.#chains.check(p.item, p.event, false),
        })),
      );
    } catch (error) {
      for (const span of spans) endProcessSpan(span, 'retried', error);
      for (const p of batch) p.item.attempts--;
      for (const p of batch) await this.#apply(p);
      return;
    }
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i]!;
      const outcome = outcomes[i]!;
      if (outcome.status === 'failed') {
        endProcessSpan(spans[i], await this.#failures.failed(p, outcome.error), outcome.error);
      } else if (outcome.status === 'refused') {
        endProcessSpan(spans[i], 'held');
        this.#chains.hold(p.item, p.event);
      } else {
        endProcessSpan(spans[i], outcome.status);
        this.#applied(p, outcome.status, outcome.status === 'applied' ? handlerMs[i] : undefined);
      }
    }
  }

  #applied(p: Prepared<Tx>, status: 'applied' | 'duplicate', handlerMs?: number): void {
    const { item, event } = p;
    if (status === 'applied') this.#counters.stats.applied++;
    else this.#counters.stats.duplicates++;
    this.#counters.unavailable = 0;
    this.#chains.passed(item, event, status === 'applied');
    this.#queues.settle(item);
    this.#o.onOutcome?.({
      kind: status,
      event,
      attempt: item.attempts,
      ...(handlerMs === undefined ? {} : { handlerMs }),
    });
  }

  /** Time until settled positions should be committed; long when there is nothing to commit. */
  #untilNextCommit(): number {
    if (this.#queues.buffered === 0 || this.#queues.pendingCommit === 0) return 1000;
    return Math.max(0, this.#o.commitIntervalMs - (Date.now() - this.#committedAt));
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
    const positions = this.#queues.takeSettledPositions();
    if (positions.length > 0) await sub.commit(positions);
  }
}

/** Starts a consumer: `consume({ transport, group, inbox, handlers })`. Stop it with `await consumer.stop()`. */
export function createConsumer<Tx>(options: ConsumeOptions<Tx>): Consumer<Tx> {
  return new Consumer(options).start();
}
