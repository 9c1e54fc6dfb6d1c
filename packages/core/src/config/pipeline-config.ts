import type { ChangeOutboxOptions } from '../cdc/change-outbox.js';
import type { ConsumeOptions } from '../consumer/consumer-options.js';
import type { TopicSpec } from '../contracts/define-topic.js';
import type { RelayOptions } from '../relay/relay-options.js';

/** Relay settings a pipeline may set (the service supplies the outbox, transport, topics and logger). */
export type PipelineRelaySettings = Omit<RelayOptions, 'outbox' | 'transport' | 'topics' | 'logger'>;

/** Ships the outbox of `store` (written by the application) to `transport`. */
export interface RelayPipelineConfig {
  readonly kind: 'relay';
  /** The name of a store in `stores`. */
  readonly store: string;
  /** The name of a transport in `transports`. */
  readonly transport: string;
  /** The topics created before the first publish (usually the contracts' topics). */
  readonly topics: readonly TopicSpec[];
  readonly relay?: PipelineRelaySettings;
}

/**
 * Ships changes read from a database (change data capture, or query-based polling) to `transport`: `changes`
 * builds what `createChangeOutbox` takes (the change source with its position store, the mapping from row
 * changes to contract events, the backfill settings), from the config's resolved `vars`, again each time the
 * pipeline restarts.
 */
export interface ChangesPipelineConfig {
  readonly kind: 'changes';
  readonly transport: string;
  readonly topics: readonly TopicSpec[];
  /** Called with the config's resolved `vars` each time the pipeline (re)starts. */
  readonly changes: (
    vars: Readonly<Record<string, string>>,
  ) => ChangeOutboxOptions | Promise<ChangeOutboxOptions>;
  readonly relay?: PipelineRelaySettings;
  /** The source's lag (age of the oldest change not yet acknowledged) above which a warning is logged. Default 60 s. */
  readonly lagWarnMs?: number;
}

/** Consumer settings a pipeline may set (the service supplies the transport, inbox and logger). */
export type PipelineConsumerSettings = Omit<
  ConsumeOptions<unknown>,
  'transport' | 'inbox' | 'handlers' | 'group' | 'logger' | 'onOutcome'
>;

/**
 * Applies events from `transport` with `handlers`, each in a transaction of `store`'s inbox (exactly once per
 * group). `handlers` receive `tx` as the inbox of that store gives it (a better-sqlite3 connection, a
 * `SqlExecutor` on PostgreSQL and MySQL).
 */
export interface ConsumerPipelineConfig {
  readonly kind: 'consumer';
  readonly store: string;
  readonly transport: string;
  readonly group: string;
  // biome-ignore lint/suspicious/noExplicitAny: the transaction type depends on the store named, known only at run time
  readonly handlers: ConsumeOptions<any>['handlers'];
  readonly consumer?: PipelineConsumerSettings;
}

/** One named unit of work `sluice run` runs, supervises and reports on. */
export type PipelineConfig = RelayPipelineConfig | ChangesPipelineConfig | ConsumerPipelineConfig;
