import type { Upcaster } from '../contracts/define-upcaster.js';
import { InvalidOptionError } from '../errors.js';
import type { InboxStore } from '../inbox/inbox-store.js';
import type { ConsumedRecord, SeekTarget } from '../transport/records.js';
import type { Transport } from '../transport/transport.js';
import { TOPIC_NAME_RULE, TOPIC_NAME_RULE_TEXT } from '../transport/validate-topic-spec.js';
import type { BackoffOptions } from '../util/backoff.js';
import { type Logger, silentLogger } from '../util/logger.js';
import { type ConsumedEvent, type Handler, type Handlers, resolveHandlers } from './handler.js';
import type { SequenceProblem } from './sequence-rule.js';

/** What happened to one delivered record. */
export type ConsumeOutcome =
  | {
      readonly kind: 'applied' | 'duplicate';
      readonly event: ConsumedEvent;
      readonly attempt: number;
      /** How long the handler ran (applied events; a duplicate runs none). */
      readonly handlerMs?: number;
    }
  | {
      readonly kind: 'retry';
      readonly event: ConsumedEvent;
      readonly attempt: number;
      readonly error: unknown;
      readonly delayMs: number;
    }
  | {
      readonly kind: 'dead-lettered';
      readonly record: ConsumedRecord;
      readonly attempts: number;
      readonly error: { code: string; message: string };
    }
  | { readonly kind: 'skipped'; readonly record: ConsumedRecord; readonly reason: string }
  | {
      /**
       * An event's sequence does not follow its chain's last applied one (reported once per event): `held` (not
       * settled; checked again with backoff) under `onGap: 'hold'`, `continued` (applied, or skipped or
       * dead-lettered as it would have been) under `onGap: 'continue'`. `record` names topic, partition and
       * offset; for a counter `expected` is the next sequence, for a position the least acceptable one.
       */
      readonly kind: 'gap';
      readonly record: ConsumedRecord;
      readonly id: string;
      readonly key: string;
      readonly source: string;
      readonly problem: SequenceProblem;
      readonly expected: number;
      readonly received: number;
      readonly action: 'held' | 'continued';
    };

export interface ConsumeOptions<Tx> {
  readonly transport: Transport;
  /** Consumer group: its members split the partitions; the inbox de-duplicates per group. */
  readonly group: string;
  /** Where handlers' side effects and the inbox record commit together. */
  readonly inbox: InboxStore<Tx>;
  /**
   * One handler per contract (type and version); their topics are subscribed. Either a list of
   * `handle(contract, fn)`, or `(on) => [on(contract, fn), ...]`, where `on` types `context.tx` as the inbox's
   * transaction.
   */
  readonly handlers: Handlers<Tx>;
  /**
   * Upcasters (`defineUpcaster(v1, v2, fn)`) that carry events published as an older version to the version a
   * handler is written for, chained (v1 -> v2 -> v3) up to the nearest handled version; their source versions'
   * topics are subscribed too. A handler for the wire version itself wins over upcasting. Given to the consumer,
   * not to one handler, because an upcaster belongs to the contract's history: one list serves every handler
   * and is checked once (two from one version, or a chain reaching no handler, is refused). Default none.
   */
  readonly upcasters?: readonly Upcaster[];
  /** Attempts before an event goes to the dead-letter topic. Default 5. */
  readonly maxAttempts?: number;
  /** Delay between attempts. Default 200 ms doubling to 30 s. */
  readonly backoff?: Partial<BackoffOptions>;
  /**
   * `wait` (default): later events of a key wait while an earlier one is retried; other keys flow on.
   * `none`: later events of the key are processed meanwhile (order per key is then not kept).
   */
  readonly keyOrdering?: 'wait' | 'none';
  /** Default `<group>.dlq`. */
  readonly deadLetterTopic?: string;
  /** Events of a type no handler covers: `skip` (default) or `dead-letter`. */
  readonly onUnknownType?: 'skip' | 'dead-letter';
  /** Records held in memory (in flight, waiting behind a key, done but not yet committed). Default 5000. */
  readonly maxBuffered?: number;
  /**
   * How often settled positions are committed to the transport. The inbox makes redelivery harmless, so
   * committing less often only means more skipped duplicates after a crash. Default 100 ms.
   */
  readonly commitIntervalMs?: number;
  /**
   * Events applied in one inbox transaction when the inbox supports it (`runBatch`; PostgreSQL's does): one
   * commit for all of them instead of one each. Only events of different keys share a batch; a failing handler
   * is undone alone. 1 turns batching off. Default 100.
   */
  readonly maxBatch?: number;
  /**
   * What to do with an event whose sequence shows a gap before it or is out of order in its chain (source,
   * topic and key; see "Gaps and order" in the core README). `hold` (default): do not apply it; it stays at the
   * head of its key (later events of the key wait, other keys flow on, committed positions do not pass it) and
   * is checked again with `backoff`, with an error logged, `stats().gaps`/`heldKeys` and a `gap` outcome.
   * `continue`: report it the same way, then apply it.
   */
  readonly onGap?: 'hold' | 'continue';
  /** Where a group with no committed position starts. Default `earliest`. */
  readonly startFrom?: 'earliest' | 'latest';
  /** Replay: move the group's committed position in every subscribed topic here before joining. */
  readonly replay?: SeekTarget;
  readonly memberId?: string;
  /** Called after each record is settled (metrics, tests, the demo). Must not throw. */
  readonly onOutcome?: (outcome: ConsumeOutcome) => void;
  readonly logger?: Logger;
}

export type ResolvedConsumeOptions<Tx> = Readonly<
  Required<Omit<ConsumeOptions<Tx>, 'backoff' | 'replay' | 'memberId' | 'onOutcome' | 'handlers'>> & {
    handlers: readonly Handler<Tx>[];
    backoff: BackoffOptions;
    replay: SeekTarget | undefined;
    memberId: string | undefined;
    onOutcome: ((outcome: ConsumeOutcome) => void) | undefined;
  }
>;

export function resolveConsumeOptions<Tx>(options: ConsumeOptions<Tx>): ResolvedConsumeOptions<Tx> {
  const c = 'consume';
  if (!options?.transport) throw new InvalidOptionError(c, 'transport', 'is required');
  if (!options.inbox)
    throw new InvalidOptionError(c, 'inbox', 'is required (an InboxStore, e.g. from @sluice/sqlite)');
  if (typeof options.group !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(options.group)) {
    throw new InvalidOptionError(
      c,
      'group',
      `must be letters, digits, ".", "_" or "-", got ${JSON.stringify(options.group)}`,
    );
  }
  const handlers = options.handlers === undefined ? [] : resolveHandlers(options.handlers);
  if (!Array.isArray(handlers) || handlers.length === 0) {
    throw new InvalidOptionError(c, 'handlers', 'needs at least one handler: handle(contract, fn)');
  }
  const seen = new Set<string>();
  for (const h of handlers) {
    const id = `${h.contract.type} v${h.contract.version}`;
    if (seen.has(id))
      throw new InvalidOptionError(c, 'handlers', `has two handlers for ${id}; combine them into one`);
    seen.add(id);
  }
  if (options.upcasters !== undefined && !Array.isArray(options.upcasters)) {
    throw new InvalidOptionError(c, 'upcasters', 'must be a list of upcasters from defineUpcaster()');
  }
  const positive = (field: string, value: number | undefined, fallback: number) => {
    const v = value ?? fallback;
    if (!Number.isFinite(v) || v <= 0)
      throw new InvalidOptionError(c, field, `must be a positive number, got ${v}`);
    return v;
  };
  const keyOrdering = options.keyOrdering ?? 'wait';
  if (keyOrdering !== 'wait' && keyOrdering !== 'none')
    throw new InvalidOptionError(c, 'keyOrdering', 'must be wait or none');
  const onUnknownType = options.onUnknownType ?? 'skip';
  if (onUnknownType !== 'skip' && onUnknownType !== 'dead-letter') {
    throw new InvalidOptionError(c, 'onUnknownType', 'must be skip or dead-letter');
  }
  const onGap = options.onGap ?? 'hold';
  if (onGap !== 'hold' && onGap !== 'continue') {
    throw new InvalidOptionError(c, 'onGap', `must be hold or continue, got ${JSON.stringify(onGap)}`);
  }
  const startFrom = options.startFrom ?? 'earliest';
  if (startFrom !== 'earliest' && startFrom !== 'latest') {
    throw new InvalidOptionError(
      c,
      'startFrom',
      `must be earliest or latest, got ${JSON.stringify(startFrom)}`,
    );
  }
  return Object.freeze({
    transport: options.transport,
    group: options.group,
    inbox: options.inbox,
    handlers,
    upcasters: options.upcasters ?? [],
    maxAttempts: Math.floor(positive('maxAttempts', options.maxAttempts, 5)),
    backoff: Object.freeze({
      initialMs: positive('backoff.initialMs', options.backoff?.initialMs, 200),
      maxMs: positive('backoff.maxMs', options.backoff?.maxMs, 30_000),
      multiplier: positive('backoff.multiplier', options.backoff?.multiplier, 2),
    }),
    keyOrdering,
    deadLetterTopic: deadLetterTopicOf(options),
    onUnknownType,
    maxBuffered: Math.floor(positive('maxBuffered', options.maxBuffered, 5000)),
    commitIntervalMs: positive('commitIntervalMs', options.commitIntervalMs, 100),
    maxBatch: Math.floor(positive('maxBatch', options.maxBatch, 100)),
    onGap,
    startFrom,
    replay: options.replay,
    memberId: options.memberId,
    onOutcome: options.onOutcome,
    logger: options.logger ?? silentLogger,
  });
}

/** The dead-letter topic (default `<group>.dlq`), checked against the topic naming rule of every transport. */
function deadLetterTopicOf(options: { group: string; deadLetterTopic?: string }): string {
  const topic = options.deadLetterTopic ?? `${options.group}.dlq`;
  if (!TOPIC_NAME_RULE.test(topic)) {
    const field = options.deadLetterTopic === undefined ? 'group' : 'deadLetterTopic';
    throw new InvalidOptionError(
      'createConsumer',
      field,
      `gives the dead-letter topic ${JSON.stringify(topic)}, which is not a topic name (${TOPIC_NAME_RULE_TEXT}); ` +
        'choose another group name or pass deadLetterTopic',
    );
  }
  return topic;
}
