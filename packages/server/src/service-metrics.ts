import type { ConsumeOutcome } from '@sluice/core';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { registerBackfillMetrics } from './backfill-metrics.js';
import type { ConsumerLag } from './consumer-lag.js';
import { SeriesCounter } from './series-counter.js';
import { SeriesHistogram } from './series-histogram.js';

/** What the metrics read from the supervisors at scrape time, per pipeline. */
export interface PipelineSnapshot {
  readonly name: string;
  readonly kind: string;
  readonly up: boolean;
  readonly ready: boolean;
  readonly details: Readonly<Record<string, unknown>>;
  /** A consumer's group lag, when it could be read. */
  readonly lag?: ConsumerLag;
}

/**
 * The service's Prometheus metrics (names documented in docs/operating.md; stable). Counters are fed by the
 * pipelines' hooks as things happen; gauges are read from the pipelines' reports when Prometheus scrapes.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly #restarts: Counter<'pipeline'>;
  readonly #published: Counter<'pipeline'>;
  readonly #batchSeconds: Histogram<'pipeline'>;
  readonly #handled: SeriesCounter<'pipeline' | 'group' | 'outcome'>;
  readonly #handlerSeconds: SeriesHistogram<'pipeline' | 'group'>;

  constructor(snapshot: () => Promise<readonly PipelineSnapshot[]>) {
    const r = this.registry;
    let cached: { at: number; value: Promise<readonly PipelineSnapshot[]> } | undefined;
    // One read of the pipelines per scrape, shared by every gauge.
    const read = () => {
      if (cached === undefined || Date.now() - cached.at > 200)
        cached = { at: Date.now(), value: snapshot() };
      return cached.value;
    };
    const gauge = <L extends string>(
      name: string,
      help: string,
      labelNames: readonly L[],
      fill: (g: Gauge<L>, p: PipelineSnapshot) => void,
    ) =>
      new Gauge<L>({
        name,
        help,
        labelNames,
        registers: [r],
        async collect() {
          this.reset();
          for (const p of await read()) fill(this, p);
        },
      });
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
    const nested = (p: PipelineSnapshot, key: string) =>
      p.details[key] as Record<string, unknown> | undefined;

    gauge(
      'sluice_pipeline_up',
      'Whether the pipeline runs (1) or failed and waits to restart (0).',
      ['pipeline', 'kind'],
      (g, p) => g.set({ pipeline: p.name, kind: p.kind }, p.up ? 1 : 0),
    );
    gauge(
      'sluice_pipeline_ready',
      'Whether the pipeline is ready (connected, leases held or standing by).',
      ['pipeline'],
      (g, p) => g.set({ pipeline: p.name }, p.ready ? 1 : 0),
    );
    gauge(
      'sluice_outbox_pending_events',
      'Events committed to the outbox and not yet acknowledged by the bus.',
      ['pipeline'],
      (g, p) => {
        const v = num(nested(p, 'outbox')?.['pending']);
        if (v !== undefined) g.set({ pipeline: p.name }, v);
      },
    );
    gauge(
      'sluice_outbox_oldest_pending_age_seconds',
      'Age of the oldest pending outbox event (0 when none).',
      ['pipeline'],
      (g, p) => {
        const outbox = nested(p, 'outbox');
        if (outbox === undefined) return;
        g.set({ pipeline: p.name }, (num(outbox['oldestPendingAgeMs']) ?? 0) / 1000);
      },
    );
    gauge(
      'sluice_cdc_lag_bytes',
      'Log bytes the change source holds back (WAL behind its slot, binlog behind its position).',
      ['pipeline'],
      (g, p) => {
        const v = num(nested(p, 'source')?.['lagBytes']);
        if (v !== undefined) g.set({ pipeline: p.name }, v);
      },
    );
    gauge(
      'sluice_cdc_lag_seconds',
      'Age of the oldest change read and not yet acknowledged by the bus (0 when none).',
      ['pipeline'],
      (g, p) => {
        const source = nested(p, 'source');
        if (source !== undefined) g.set({ pipeline: p.name }, (num(source['lagMs']) ?? 0) / 1000);
      },
    );
    gauge(
      'sluice_relay_partitions_owned',
      'Key-hash partitions of the outbox this relay holds the lease of.',
      ['pipeline'],
      (g, p) => {
        const parts = p.details['partitions'];
        if (p.kind !== 'consumer' && Array.isArray(parts)) g.set({ pipeline: p.name }, parts.length);
      },
    );
    gauge(
      'sluice_consumer_partitions_assigned',
      'Partitions assigned to this consumer group member.',
      ['pipeline'],
      (g, p) => {
        const v = num(p.details['partitions']);
        if (p.kind === 'consumer' && v !== undefined) g.set({ pipeline: p.name }, v);
      },
    );
    gauge('sluice_consumer_buffered_events', 'Records read and not yet settled.', ['pipeline'], (g, p) => {
      const v = num(p.details['buffered']);
      if (v !== undefined) g.set({ pipeline: p.name }, v);
    });
    gauge(
      'sluice_consumer_held_keys',
      'Keys whose head event is held (a gap, or waiting for a retry).',
      ['pipeline'],
      (g, p) => {
        const held = num(p.details['heldKeys']);
        const waiting = num(p.details['waitingKeys']);
        if (held !== undefined) g.set({ pipeline: p.name }, held + (waiting ?? 0));
      },
    );
    registerBackfillMetrics(r, read);
    gauge(
      'sluice_consumer_lag_events',
      "Records of the consumer's topics its group has not committed yet, per partition (read at scrape time).",
      ['pipeline', 'group', 'topic', 'partition'],
      (g, p) => {
        const group = p.lag?.group ?? '';
        for (const t of p.lag?.topics ?? []) {
          for (const l of t.partitions)
            g.set({ pipeline: p.name, group, topic: t.topic, partition: String(l.partition) }, l.lag);
        }
      },
    );
    this.#restarts = new Counter({
      name: 'sluice_pipeline_restarts_total',
      help: 'Times a pipeline was restarted after it failed.',
      labelNames: ['pipeline'],
      registers: [r],
    });
    this.#published = new Counter({
      name: 'sluice_relay_events_published_total',
      help: 'Events the relay published and the bus acknowledged.',
      labelNames: ['pipeline'],
      registers: [r],
    });
    this.#batchSeconds = new Histogram({
      name: 'sluice_relay_publish_batch_duration_seconds',
      help: 'How long one batch took to publish, until the bus acknowledged it.',
      labelNames: ['pipeline'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [r],
    });
    this.#handled = new SeriesCounter({
      name: 'sluice_consumer_events_total',
      help: 'Events a consumer settled, by outcome: applied, duplicate (skipped by the inbox), retried, dead_lettered.',
      labelNames: ['pipeline', 'group', 'outcome'],
      registers: [r],
    });
    this.#handlerSeconds = new SeriesHistogram({
      name: 'sluice_consumer_handler_duration_seconds',
      help: "How long a handler ran for an event it applied (the inbox's transaction around it not included).",
      labelNames: ['pipeline', 'group'],
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [r],
    });
  }

  /** Makes a pipeline's series appear at zero before anything happened (so rates work from the start). */
  declare(pipeline: string, kind: string, group?: string): void {
    this.#restarts.inc({ pipeline }, 0);
    if (kind === 'consumer' && group !== undefined) {
      for (const outcome of ['applied', 'duplicate', 'retried', 'dead_lettered'])
        this.#handled.series({ pipeline, group, outcome });
    } else this.#published.inc({ pipeline }, 0);
  }

  restarted(pipeline: string): void {
    this.#restarts.inc({ pipeline });
  }

  published(pipeline: string, records: number, durationMs: number): void {
    this.#published.inc({ pipeline }, records);
    this.#batchSeconds.observe({ pipeline }, durationMs / 1000);
  }

  /**
   * The consumer's `onOutcome` for `pipeline` (group `group`): counts each settled event by outcome and
   * observes the handler's duration of each applied one. Its series are looked up once, here: per event it
   * costs a few additions (the consumer calls it for every event).
   */
  consumerHook(pipeline: string, group: string): (outcome: ConsumeOutcome) => void {
    const count = (outcome: string) => this.#handled.series({ pipeline, group, outcome });
    const applied = count('applied');
    const duplicate = count('duplicate');
    const retried = count('retried');
    const deadLettered = count('dead_lettered');
    const seconds = this.#handlerSeconds.series({ pipeline, group });
    return (outcome) => {
      switch (outcome.kind) {
        case 'applied':
          applied.inc();
          if (outcome.handlerMs !== undefined) seconds.observe(outcome.handlerMs / 1000);
          return;
        case 'duplicate':
          duplicate.inc();
          return;
        case 'retry':
          retried.inc();
          return;
        case 'dead-lettered':
          deadLettered.inc();
          return;
        default:
          return;
      }
    };
  }
}
