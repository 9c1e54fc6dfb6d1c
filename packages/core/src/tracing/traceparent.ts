import { isValidSpanId, isValidTraceId, type SpanContext } from '@opentelemetry/api';

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
 * (version `ff`, a version-00 value with more fields, an all-zero trace or span id, upper-case hex). Later
 * versions are read by their first four fields, as W3C Trace Context says. Checked character by character (no
 * regular expression, no substring until it is valid): a consumer parses one per event.
 */
export function parseTraceparent(value: string | undefined): SpanContext | undefined {
  if (value === undefined || value.length < LENGTH) return undefined;
  if (value.length > LENGTH && value.charCodeAt(LENGTH) !== DASH) return undefined;
  if (value.charCodeAt(2) !== DASH || value.charCodeAt(35) !== DASH || value.charCodeAt(52) !== DASH) {
    return undefined;
  }
  if (
    !lowerHex(value, 0, 2) ||
    !lowerHex(value, 3, 35) ||
    !lowerHex(value, 36, 52) ||
    !lowerHex(value, 53, 55)
  ) {
    return undefined;
  }
  const v0 = value.charCodeAt(0);
  const v1 = value.charCodeAt(1);
  if (v0 === F && v1 === F) return undefined;
  if (v0 === ZERO && v1 === ZERO && value.length !== LENGTH) return undefined;
  if (allZero(value, 3, 35) || allZero(value, 36, 52)) return undefined;
  return {
    traceId: value.slice(3, 35),
    spanId: value.slice(36, 52),
    traceFlags: hexDigit(value.charCodeAt(54)) & 1,
    isRemote: true,
  };
}

const DASH = 45;
const ZERO = 48;
const F = 102;

function lowerHex(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

function allZero(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (s.charCodeAt(i) !== ZERO) return false;
  return true;
}

function hexDigit(c: number): number {
  return c <= 57 ? c - 48 : c - 87;
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
