import { decodeEnvelope } from '../envelope/codec.js';
import type { Envelope } from '../envelope/envelope.js';
import { errorCode, errorMessage } from '../errors.js';
import { backoffDelay } from '../util/backoff.js';
import type { ChainGuard, ConsumerCounters } from './chain-guard.js';
import { chainEventOf, type Item } from './consumer-item.js';
import type { ResolvedConsumeOptions } from './consumer-options.js';
import { deadLetterRecord } from './dead-letter.js';
import { failureAction } from './failure-policy.js';
import type { KeyQueues } from './key-queues.js';
import type { Prepared } from './prepare-record.js';

/**
 * What a consumer does with an event it could not apply: retry it later (its key's later events wait), wait for
 * the database without spending an attempt, or publish it to the dead-letter topic; and with an event it skips.
 * Shares the consumer's options, queues, chains and counters.
 */
export class ConsumerFailures<Tx> {
  readonly #o: ResolvedConsumeOptions<Tx>;
  readonly #queues: KeyQueues;
  readonly #chains: ChainGuard<Tx>;
  readonly #counters: ConsumerCounters;

  constructor(
    o: ResolvedConsumeOptions<Tx>,
    queues: KeyQueues,
    chains: ChainGuard<Tx>,
    counters: ConsumerCounters,
  ) {
    this.#o = o;
    this.#queues = queues;
    this.#chains = chains;
    this.#counters = counters;
  }

  /**
   * A handler (or the inbox) failed: the failure policy says wait for the database, retry, or dead-letter.
   * Returns which, for the process span.
   */
  async failed(p: Prepared<Tx>, error: unknown): Promise<'retried' | 'dead-lettered'> {
    const { item, envelope, event } = p;
    const { record } = item;
    const { maxAttempts, backoff } = this.#o;
    const action = failureAction(error, item.attempts, maxAttempts, backoff, this.#counters.unavailable + 1);
    if (action.kind === 'dead-letter') {
      await this.deadLetter(item, { code: errorCode(error), message: errorMessage(error) }, envelope);
      return 'dead-lettered';
    }
    const { delayMs } = action;
    if (action.kind === 'wait-for-database') {
      // Not the event's fault: wait for the database (the key's later events wait too) without spending an
      // attempt, however long the outage lasts.
      item.attempts--;
      this.#counters.unavailable++;
      this.#o.logger.warn("the consumer's database is unavailable or busy; waiting for it", {
        group: this.#o.group,
        id: envelope.id,
        key: record.key,
        delayMs,
        error: errorMessage(error),
      });
    } else {
      this.#counters.stats.retries++;
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
    }
    item.nextAttemptAt = Date.now() + delayMs;
    this.#queues.delay(item);
    this.#o.onOutcome?.({ kind: 'retry', event, attempt: item.attempts, error, delayMs });
    return 'retried';
  }

  async deadLetter(item: Item, error: { code: string; message: string }, known?: Envelope): Promise<void> {
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
    if (envelope && !(await this.#chains.pass(item, chainEventOf(envelope)))) return;
    const attempts = Math.max(1, item.attempts);
    try {
      await this.#o.transport.publish([
        deadLetterRecord(this.#o.deadLetterTopic, this.#o.group, record, eventId, error, attempts),
      ]);
    } catch (publishError) {
      // The dead-letter topic is unreachable: keep the record (and its key) waiting, try again later.
      item.nextAttemptAt = Date.now() + backoffDelay(this.#o.backoff, ++item.attempts);
      this.#queues.delay(item);
      this.#o.logger.error('could not publish to the dead-letter topic; will retry', {
        topic: this.#o.deadLetterTopic,
        code: errorCode(publishError),
        error: errorMessage(publishError),
      });
      return;
    }
    this.#counters.stats.deadLettered++;
    this.#o.logger.error('event dead-lettered', {
      group: this.#o.group,
      id: eventId,
      topic: record.topic,
      key: record.key,
      attempts,
      ...error,
    });
    this.#queues.settle(item);
    this.#o.onOutcome?.({ kind: 'dead-lettered', record, attempts, error });
  }

  skip(item: Item, reason: string): void {
    const { record } = item;
    this.#counters.stats.skipped++;
    this.#queues.settle(item);
    this.#o.onOutcome?.({ kind: 'skipped', record, reason });
  }
}
