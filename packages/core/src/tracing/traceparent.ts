import { isValidSpanId, isValidTraceId, type SpanContext } from '@opentelemetry/api';

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ATTRIBUTE = '"traceparent":"';
const DATA = ',"data":';
/** A version-00 traceparent: `00-` + 32 + `-` + 16 + `-` + 2 hex digits. */
const LENGTH = 55;

/**
 * The W3C Trace Context `traceparent` of a span context (version 00), as the envelope's `traceparent` attribute
 * (the CloudEvents Distributed Tracing extension) carries it. Formatted here rather than through
 * `propagation.inject`: the attribute is W3C by definition, and the API's propagator is a no-op unless the
 * application registered one (many register only a tracer provider). `undefined` for an invalid context.
 */
export function formatTraceparent(span: SpanContext): string | undefined {
  if (!isValidTraceId(span.traceId) || !isValidSpanId(span.spanId)) return undefined;
  return `00-${span.traceId}-${span.spanId}-${span.traceFlags & 1 ? '01' : '00'}`;
}

/**
 * The remote span context a `traceparent` names, or `undefined` if it is absent or not a valid W3C traceparent
 * (version `ff`, a version-00 value with more fields, an all-zero trace or span id). Later versions are read by
 * their first four fields, as W3C Trace Context says.
 */
export function parseTraceparent(value: string | undefined): SpanContext | undefined {
  if (value === undefined) return undefined;
  const m = TRACEPARENT.exec(value);
  if (m === null) return undefined;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string?,
  ];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (!isValidTraceId(traceId) || !isValidSpanId(spanId)) return undefined;
  return { traceId, spanId, traceFlags: Number.parseInt(flags, 16) & 1, isRemote: true };
}

/**
 * The `traceparent` attribute of an encoded envelope (an outbox row's value), found without parsing the JSON:
 * `encodeEnvelope` writes every attribute before `data` and escapes the quotes inside string values, so a
 * `"traceparent":"` before `,"data":` is the attribute itself. `undefined` when there is none (or the value is
 * not an envelope `encodeEnvelope` wrote); the caller validates the result with {@link parseTraceparent}.
 */
export function traceparentInValue(value: string | null): string | undefined {
  if (value === null) return undefined;
  const at = value.indexOf(ATTRIBUTE);
  if (at < 0) return undefined;
  const data = value.indexOf(DATA);
  if (data >= 0 && data < at) return undefined;
  const start = at + ATTRIBUTE.length;
  const end = value.indexOf('"', start);
  if (end < 0 || end - start < LENGTH) return undefined;
  return value.slice(start, end);
}
