import { hostname } from 'node:os';
import type { TopicSpec } from '../contracts/define-topic.js';
import { InvalidOptionError } from '../errors.js';
import type { OutboxStore } from '../outbox/outbox-store.js';
import type { Transport } from '../transport/transport.js';
import type { BackoffOptions } from '../util/backoff.js';
import { type Logger, silentLogger } from '../util/logger.js';

export interface RelayOptions {
  readonly outbox: OutboxStore;
  readonly transport: Transport;
  /** Topics to ensure on the transport before the first publish (usually `registry.topics()`). */
  readonly topics?: readonly TopicSpec[];
  /** Rows read and published per batch. Default 1000. */
  readonly batchSize?: number;
  /** Longest wait for an append notification before reading again. Default 1000 ms. */
  readonly idleWaitMs?: number;
  /** Relay lease lifetime; a standby takes over at most this long after the holder dies. Default 5000 ms. */
  readonly leaseTtlMs?: number;
  /** This instance's lease owner id. Default `hostname:pid:random`. */
  readonly owner?: string;
  /** Backoff after a failed publish. Default 100 ms doubling to 10 s. */
  readonly backoff?: Partial<BackoffOptions>;
  /**
   * Published rows are acknowledged (deleted from the outbox) together, at most this often, so the relay
   * takes the application's write lock rarely. Safe: the relay reads past published rows, and after a crash
   * unacknowledged rows are sent again (consumers de-duplicate). Default 50 ms.
   */
  readonly ackIntervalMs?: number;
  /** Rows of held-back keys kept in memory before reading pauses. Default 10000. */
  readonly maxHeldRows?: number;
  readonly logger?: Logger;
  /** Called after each batch the transport acknowledged, with its size and how long the publish took (metrics). Must not throw. */
  readonly onPublished?: (records: number, durationMs: number) => void;
}

export type ResolvedRelayOptions = Readonly<
  Required<Omit<RelayOptions, 'backoff' | 'topics' | 'onPublished'>> & {
    backoff: BackoffOptions;
    topics: readonly TopicSpec[];
    onPublished: ((records: number, durationMs: number) => void) | undefined;
  }
>;

export function resolveRelayOptions(options: RelayOptions): ResolvedRelayOptions {
  const c = 'relay';
  if (!options?.outbox)
    throw new InvalidOptionError(c, 'outbox', 'is required (an OutboxStore, e.g. from @sluice/sqlite)');
  if (!options.transport) throw new InvalidOptionError(c, 'transport', 'is required');
  const positive = (field: string, value: number | undefined, fallback: number) => {
    const v = value ?? fallback;
    if (!Number.isFinite(v) || v <= 0)
      throw new InvalidOptionError(c, field, `must be a positive number, got ${v}`);
    return v;
  };
  return Object.freeze({
    outbox: options.outbox,
    transport: options.transport,
    topics: options.topics ?? [],
    batchSize: Math.floor(positive('batchSize', options.batchSize, 1000)),
    idleWaitMs: positive('idleWaitMs', options.idleWaitMs, 1000),
    leaseTtlMs: positive('leaseTtlMs', options.leaseTtlMs, 5000),
    owner: options.owner ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`,
    backoff: Object.freeze({
      initialMs: positive('backoff.initialMs', options.backoff?.initialMs, 100),
      maxMs: positive('backoff.maxMs', options.backoff?.maxMs, 10_000),
      multiplier: positive('backoff.multiplier', options.backoff?.multiplier, 2),
    }),
    maxHeldRows: Math.floor(positive('maxHeldRows', options.maxHeldRows, 10_000)),
    ackIntervalMs: positive('ackIntervalMs', options.ackIntervalMs, 50),
    logger: options.logger ?? silentLogger,
    onPublished: options.onPublished,
  });
}
