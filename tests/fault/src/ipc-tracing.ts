import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/** A finished span as a child process reports it to its parent over IPC. */
export interface ReportedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly name: string;
  readonly kind: number;
  readonly links: readonly { traceId: string; spanId: string }[];
  readonly attributes: Record<string, unknown>;
}

/** What each traced child process sends once done: its role and its finished spans. */
export interface SpanReport {
  readonly role: string;
  readonly spans: readonly ReportedSpan[];
}

/**
 * Registers the OpenTelemetry SDK in this (child) process as an application would (tracer provider with an
 * in-memory exporter, AsyncLocalStorage context manager), and returns `report(role)`, which sends the finished
 * spans to the parent over IPC and resolves once they are sent.
 */
export function registerIpcTracing(): (role: string) => Promise<void> {
  const exporter = new InMemorySpanExporter();
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  return (role) =>
    new Promise((resolve, reject) => {
      const report: SpanReport = { role, spans: exporter.getFinishedSpans().map(reported) };
      process.send?.(report, (error: Error | null) => (error ? reject(error) : resolve()));
    });
}

function reported(span: ReadableSpan): ReportedSpan {
  const { traceId, spanId } = span.spanContext();
  return {
    traceId,
    spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    name: span.name,
    kind: span.kind,
    links: span.links.map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId })),
    attributes: { ...span.attributes },
  };
}
