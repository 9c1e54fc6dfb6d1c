import type { TopicKind } from '../contracts/define-topic.js';
import { errorCode, errorMessage } from '../errors.js';
import type { ChainCheck } from '../inbox/chain-check.js';
import { backoffDelay } from '../util/backoff.js';
import type { ChainEvent, Item } from './consumer-item.js';
import type { ResolvedConsumeOptions } from './consumer-options.js';
import { REDRIVEN_HEADER } from './dead-letter.js';
import { unavailableDelay } from './failure-policy.js';
import { gapFields, gapMessage } from './gap-report.js';
import type { KeyQueues } from './key-queues.js';
import { judgeSequence, type SequenceVerdict } from './sequence-rule.js';

/** How often a key still held for a gap is logged again (its first detection is always logged). */
const HELD_LOG_INTERVAL_MS = 60_000;

/** Counters a consumer shares with its parts. */
export interface ConsumerCounters {
  readonly stats: {
    applied: number;
    duplicates: number;
    retries: number;
    deadLettered: number;
    skipped: number;
    gaps: number;
    deprecatedReceived: number;
  };
  /** Consecutive inbox calls that found the consumer's database unreachable. */
  unavailable: number;
}

/** Counters at zero, for a consumer starting. */
export function newCounters(): ConsumerCounters {
  const stats = { applied: 0, duplicates: 0, retries: 0, deadLettered: 0, skipped: 0, gaps: 0 };
  return { stats: { ...stats, deprecatedReceived: 0 }, unavailable: 0 };
}

/**
 * The consumer's gap and order policy per chain (source, topic and key): builds the inbox's chain check,
 * stores the chain of events settled without applying them, holds a key whose chain has a gap (`onGap:
 * 'hold'`) or reports it and goes on (`continue`), and releases a held key once its event passes.
 */
export class ChainGuard<Tx> {
  readonly #o: ResolvedConsumeOptions<Tx>;
  readonly #queues: KeyQueues;
  readonly #counters: ConsumerCounters;
  readonly #topicKinds: ReadonlyMap<string, TopicKind>;
  /** Whether the inbox tracks this group's chains from their first event (see `InboxStore.startGroup`). */
  fromStart = false;

  constructor(
    options: ResolvedConsumeOptions<Tx>,
    queues: KeyQueues,
    counters: ConsumerCounters,
    topicKinds: ReadonlyMap<string, TopicKind>,
  ) {
    this.#o = options;
    this.#queues = queues;
    this.#counters = counters;
    this.#topicKinds = topicKinds;
  }

  /**
   * The inbox's check of an event's chain (its source, topic and key), run inside its transaction with the
   * chain's stored last sequence. Remembers on the item what it found; under `onGap: 'hold'` refuses an event
   * with a gap before it, and one out of order unless it is not to be applied (`unapplied`: a skipped or
   * dead-lettered event out of order harms nothing) or the consumer replays. Not checked: events without key order (`keyOrdering:
   * 'none'`: they run out of order on purpose) and redriven dead letters (behind their chain on purpose).
   */
  check(item: Item, event: ChainEvent, unapplied: boolean): ChainCheck | undefined {
    if (this.#o.keyOrdering === 'none' || item.record.headers[REDRIVEN_HEADER] !== undefined)
      return undefined;
    const topic = item.record.topic;
    const fromFirst =
      this.fromStart && event.sequenceKind === 'counter' && this.#topicKinds.get(topic) === 'event';
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
  async pass(item: Item, event: ChainEvent): Promise<boolean> {
    const chain = this.check(item, event, true);
    if (chain === undefined) return true;
    let status: 'passed' | 'refused';
    try {
      status = await this.#o.inbox.passChain(this.#o.group, chain);
    } catch (error) {
      const delayMs = unavailableDelay(this.#o.backoff, ++this.#counters.unavailable);
      this.#o.logger.warn('storing the sequence of an event that is not applied failed; retrying', {
        group: this.#o.group,
        id: event.id,
        key: event.key,
        delayMs,
        code: errorCode(error),
        error: errorMessage(error),
      });
      item.nextAttemptAt = Date.now() + delayMs;
      this.#queues.delay(item);
      return false;
    }
    this.#counters.unavailable = 0;
    if (status === 'refused') {
      this.hold(item, event);
      return false;
    }
    this.passed(item, event, true);
    return true;
  }

  /** An event got past its chain check: reports a problem let through (`continue`), releases a held key. */
  passed(item: Item, event: ChainEvent, checked: boolean): void {
    if (checked && item.verdict && !item.held) this.#reportGap(item, event, item.verdict, 'continued');
    if (item.held && this.#queues.held.delete(item)) {
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
  hold(item: Item, event: ChainEvent): void {
    const verdict = item.verdict;
    if (item.attempts > 0) item.attempts--; // not the handler's failure: never dead-lettered for it
    this.#counters.unavailable = 0;
    const now = Date.now();
    if (!item.held) {
      item.held = { checks: 0, loggedAt: now };
      this.#queues.held.add(item);
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
    if (verdict?.problem === 'gap' && this.#queues.runMissingFirst(item)) return;
    this.#queues.delay(item);
  }

  #reportGap(item: Item, event: ChainEvent, verdict: SequenceVerdict, action: 'held' | 'continued'): void {
    this.#counters.stats.gaps++;
    const { record } = item;
    this.#o.logger.error(gapMessage(item, event, verdict, action), this.#gapFields(item, event, verdict));
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
    return gapFields(this.#o.group, this.#o.onGap, item, event, verdict);
  }
}
