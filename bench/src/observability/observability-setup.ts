import { context, type Tracer, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import type { ConsumeOutcome } from '@sluice/core';
import { ServiceMetrics } from '@sluice/server';

/** The four configurations of the observability benchmark, as `sluice run` would run them. */
export const OBSERVABILITY_SETUPS = [
  'off',
  'metrics',
  'metrics+noop-sdk',
  'metrics+memory-sdk',
  'metrics+memory-sdk-10%',
] as const;
export type ObservabilitySetupName = (typeof OBSERVABILITY_SETUPS)[number];

/** One configuration, registered: the hooks to give the relay and the consumer, and the application's tracer. */
export interface ObservabilitySetup {
  readonly name: ObservabilitySetupName;
  /** The relay's `onPublished`, feeding {@link ServiceMetrics} as the service does; absent when off. */
  readonly onPublished: ((records: number, durationMs: number) => void) | undefined;
  /** The consumer's `onOutcome`, feeding {@link ServiceMetrics} as the service does; absent when off. */
  readonly onOutcome: ((outcome: ConsumeOutcome) => void) | undefined;
  /** The application's tracer to append inside an active span; `undefined` without an SDK. */
  readonly tracer: Tracer | undefined;
  /** Spans the in-memory SDK holds (0 for the others). */
  spansHeld(): number;
  /** Exports the spans the batch processor still queues (after a timed part, before counting). */
  flush(): Promise<void>;
  /** Drops the spans the in-memory SDK holds (between phases, outside the timed parts). */
  resetSpans(): void;
  /** Unregisters the global tracer provider and context manager. */
  close(): Promise<void>;
}

/**
 * Registers configuration `name`:
 * - `off`: no tracer provider, no context manager, no metrics hooks;
 * - `metrics`: the service's hooks (relay `onPublished`, consumer `onOutcome`) feeding `ServiceMetrics`;
 * - `metrics+noop-sdk`: plus `BasicTracerProvider` with `AlwaysOffSampler` (spans created, never recorded) and
 *   the AsyncLocalStorage context manager, registered globally;
 * - `metrics+memory-sdk`: plus `BasicTracerProvider` (always on: every span recorded) exporting to an
 *   `InMemorySpanExporter` through a `BatchSpanProcessor` (the processor OpenTelemetry recommends outside tests;
 *   its queue is sized so that no span is dropped, which the benchmark checks);
 * - `metrics+memory-sdk-10%`: the same with the sampler production usually runs, parent-based with 10% of the
 *   producers' traces sampled (the consumer follows each event's producer).
 */
export function registerObservability(name: ObservabilitySetupName): ObservabilitySetup {
  const metrics = name === 'off' ? undefined : new ServiceMetrics(async () => []);
  metrics?.declare('relay', 'relay');
  metrics?.declare('consumer', 'consumer', 'bench');
  let exporter: InMemorySpanExporter | undefined;
  let provider: BasicTracerProvider | undefined;
  if (name !== 'off' && name !== 'metrics') {
    exporter = name === 'metrics+noop-sdk' ? undefined : new InMemorySpanExporter();
    const sampler: Sampler =
      name === 'metrics+noop-sdk'
        ? new AlwaysOffSampler()
        : name === 'metrics+memory-sdk'
          ? new AlwaysOnSampler()
          : new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.1) });
    provider = new BasicTracerProvider({
      sampler,
      spanProcessors:
        exporter === undefined
          ? []
          : [
              new BatchSpanProcessor(exporter, {
                maxQueueSize: 1 << 21,
                maxExportBatchSize: 1024,
                scheduledDelayMillis: 200,
              }),
            ],
    });
    if (!context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable()))
      throw new Error('a global context manager is already registered: the previous setup was not closed');
    if (!trace.setGlobalTracerProvider(provider))
      throw new Error('a global tracer provider is already registered: the previous setup was not closed');
  }
  return {
    name,
    onPublished: metrics && ((records, ms) => metrics.published('relay', records, ms)),
    onOutcome: metrics?.consumerHook('consumer', 'bench'),
    tracer: provider === undefined ? undefined : trace.getTracer('bench-app'),
    spansHeld: () => exporter?.getFinishedSpans().length ?? 0,
    flush: async () => {
      await provider?.forceFlush();
    },
    resetSpans: () => exporter?.reset(),
    async close() {
      if (provider === undefined) return;
      trace.disable();
      context.disable();
      await provider.shutdown();
    },
  };
}
