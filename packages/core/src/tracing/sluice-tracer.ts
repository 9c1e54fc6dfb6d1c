import { ProxyTracerProvider, type Tracer, type TracerProvider, trace } from '@opentelemetry/api';

/** The instrumentation scope of Sluice's spans: `trace.getTracer('@sluice/core', version)`. */
export const TRACER_NAME = '@sluice/core';
/** The version of `@sluice/core` its spans name as their instrumentation scope version. */
export const TRACER_VERSION = '0.1.0';

/** What the API's proxy delegates to before an SDK is registered (one shared no-op instance). */
const NOOP_PROVIDER: TracerProvider = new ProxyTracerProvider().getDelegate();

let cachedFor: TracerProvider | undefined;
let cached: Tracer | undefined;

/**
 * Sluice's tracer from the global tracer provider, or `undefined` when no SDK is registered: then every
 * instrumentation point returns at once, without allocating a span, a context or attributes. Asked again on
 * each call (two property reads) so that a provider registered, replaced or removed (`trace.disable()`) after
 * this module loaded is followed; the tracer itself is cached per provider.
 *
 * A provider registered through another copy of `@opentelemetry/api` is not recognised as a proxy and is used
 * as it is: then Sluice still starts spans and checks `isRecording()` before doing anything per event.
 */
export function sluiceTracer(): Tracer | undefined {
  const provider = trace.getTracerProvider();
  const delegate = provider instanceof ProxyTracerProvider ? provider.getDelegate() : provider;
  if (delegate === NOOP_PROVIDER) return undefined;
  if (delegate !== cachedFor) {
    cachedFor = delegate;
    cached = delegate.getTracer(TRACER_NAME, TRACER_VERSION);
  }
  return cached;
}
