import { context, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import { errorMessage, SluiceError } from '../errors.js';
import { ATTR } from './messaging-attributes.js';

/**
 * Runs `fn` with `span` as the active span, so spans that `fn` starts (a database driver's, the handler's own)
 * become its children. Without a span, just runs `fn`.
 */
export function inSpan<T>(span: Span | undefined, fn: () => T): T {
  if (span === undefined) return fn();
  return context.with(trace.setSpan(context.active(), span), fn);
}

/**
 * Marks a recording span as failed: the exception recorded as an event, status ERROR with the message, and
 * `error.type` set to the Sluice error code, else the error's own string `code` (a driver's), else its name.
 */
export function recordFailure(span: Span | undefined, error: unknown): void {
  if (span === undefined || !span.isRecording()) return;
  span.recordException(error instanceof Error ? error : errorMessage(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
  span.setAttribute(ATTR.errorType, errorType(error));
}

function errorType(error: unknown): string {
  if (error instanceof SluiceError) return error.code;
  if (!(error instanceof Error)) return typeof error;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : error.name;
}
