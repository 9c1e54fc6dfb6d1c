import { context, type Tracer, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { ConsumeOutcome } from '@sluice/core';
import { ServiceMetrics } from '@sluice/server';

/** The four configurations of the observability benchmark, as `sluice run` would run them. */
export const OBSERVABILITY_SETUPS = ['off', 'metrics', 'metrics+noop-sdk', 'metrics+memory-sdk'] as const;
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
 * - `metrics+memory-sdk`: plus `BasicTracerProvider` (always on) exporting every span to an
 *   `InMemorySpanExporter` through `SimpleSpanProcessor`.
 */
export function registerObservability(name: ObservabilitySetupName): ObservabilitySetup {
  const metrics = name === 'off' ? undefined : new ServiceMetrics(async () => []);
  metrics?.declare('relay', 'relay');
  metrics?.declare('consumer', 'consumer', 'bench');
  let exporter: InMemorySpanExporter | undefined;
  let provider: BasicTracerProvider | undefined;
  if (name === 'metrics+noop-sdk' || name === 'metrics+memory-sdk') {
    exporter = name === 'metrics+memory-sdk' ? new InMemorySpanExporter() : undefined;
    provider = new BasicTracerProvider({
      sampler: exporter === undefined ? new AlwaysOffSampler() : new AlwaysOnSampler(),
      spanProcessors: exporter === undefined ? [] : [new SimpleSpanProcessor(exporter)],
    });
    if (!context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable()))
      throw new Error('a global context manager is already registered: the previous setup was not closed');
    if (!trace.setGlobalTracerProvider(provider))
      throw new Error('a global tracer provider is already registered: the previous setup was not closed');
  }
  return {
    name,
    onPublished: metrics && ((records, ms) => metrics.published('relay', records, ms)),
    onOutcome: metrics && ((outcome) => metrics.handled('consumer', 'bench', outcome)),
    tracer: provider === undefined ? undefined : trace.getTracer('bench-app'),
    spansHeld: () => exporter?.getFinishedSpans().length ?? 0,
    resetSpans: () => exporter?.reset(),
    async close() {
      if (provider === undefined) return;
      trace.disable();
      context.disable();
      await provider.shutdown();
    },
  };
}
