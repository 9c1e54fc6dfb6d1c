import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  type Sampler,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/** An SDK registered globally for a test file: finished spans land in `exporter`. */
export interface TestTracing {
  readonly exporter: InMemorySpanExporter;
  /** The finished spans named `name` (all of them without a name). */
  spans(name?: string): ReadableSpan[];
  /** The one finished span named `name`; throws if there is none or several. */
  span(name: string): ReadableSpan;
  /** Unregisters the provider and the context manager (`trace.disable()`, `context.disable()`). */
  disable(): Promise<void>;
}

/**
 * Registers `BasicTracerProvider` with an in-memory exporter (simple processor: each span exported when it ends)
 * and the AsyncLocalStorage context manager as the global ones.
 */
export function registerTestTracing(sampler?: Sampler): TestTracing {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    ...(sampler ? { sampler } : {}),
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  if (!context.setGlobalContextManager(contextManager)) throw new Error('a context manager is registered');
  if (!trace.setGlobalTracerProvider(provider)) throw new Error('a tracer provider is registered');
  const spans = (name?: string) =>
    exporter.getFinishedSpans().filter((s) => name === undefined || s.name === name);
  return {
    exporter,
    spans,
    span(name) {
      const found = spans(name);
      if (found.length !== 1) {
        const names = exporter.getFinishedSpans().map((s) => s.name);
        throw new Error(`expected one span "${name}", got ${found.length} of ${JSON.stringify(names)}`);
      }
      return found[0]!;
    },
    async disable() {
      trace.disable();
      context.disable();
      await provider.shutdown();
    },
  };
}
