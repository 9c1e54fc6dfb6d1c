import { resolve } from 'node:path';
import { InvalidOptionError, SluiceError } from '../errors.js';
import type { Transport } from './transport.js';
import type { TransportConfig } from './transport-config.js';

/** Every transport's package and factory, loaded only when asked for (core depends on none of them). */
const ADAPTERS = {
  embedded: { module: '@sluice/sqlite', factory: 'createLogTransport' },
  nats: { module: '@sluice/nats', factory: 'createNatsTransport' },
  redis: { module: '@sluice/redis', factory: 'createRedisTransport' },
  kafka: { module: '@sluice/kafka', factory: 'createKafkaTransport' },
} as const;

/** The broker kinds a URL scheme can name. */
export type BrokerKind = 'nats' | 'redis' | 'kafka';

/**
 * Opens the bus a {@link TransportConfig} (or a URL) names: the one place where a transport is chosen by
 * configuration. A transport's package is imported on demand, so an application installs only the adapter it
 * uses; a missing one is a `SLUICE_ADAPTER_MISSING` error that names the package to install.
 *
 * A string is read by {@link transportConfigOf}: `nats://…`, `redis://…`, `kafka://…`, or else the path of an
 * embedded log file.
 *
 * ```ts
 * const transport = await createTransport('nats://127.0.0.1:4222');
 * createRelay({ outbox, transport, topics }).start();
 * ```
 */
export async function createTransport(config: TransportConfig | string): Promise<Transport> {
  const resolved = typeof config === 'string' ? transportConfigOf(config) : config;
  const adapter = ADAPTERS[resolved.kind];
  if (adapter === undefined) {
    throw new InvalidOptionError(
      'createTransport',
      'kind',
      `must be embedded, nats, redis or kafka, got ${JSON.stringify((resolved as { kind: unknown }).kind)}`,
    );
  }
  const where = resolved.kind === 'embedded' ? resolved.path : resolved.url;
  let factory: unknown;
  try {
    factory = ((await import(adapter.module)) as Record<string, unknown>)[adapter.factory];
  } catch (cause) {
    throw unavailable(adapter.module, where, cause);
  }
  if (typeof factory !== 'function') throw unavailable(adapter.module, where);
  const create = factory as (o: Record<string, unknown>) => Transport | Promise<Transport>;
  if (resolved.kind === 'embedded') return create({ ...resolved.options, path: resolve(resolved.path) });
  // Every broker adapter's factory takes the broker URL as `url`, a `namespace` and defaults for the rest.
  return create({
    ...resolved.options,
    url: resolved.url,
    ...(resolved.namespace === undefined ? {} : { namespace: resolved.namespace }),
  });
}

/**
 * The {@link TransportConfig} a URL names: `nats://`, `redis://` or `kafka://` a broker (with `namespace`, if
 * given), `embedded` or anything else the path of an embedded log file (`file:` prefix allowed).
 */
export function transportConfigOf(url: string, namespace?: string): TransportConfig {
  const kind = brokerKindOf(url);
  if (kind !== undefined) return { kind, url, ...(namespace === undefined ? {} : { namespace }) };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new InvalidOptionError(
      'createTransport',
      'url',
      `${JSON.stringify(url)} names no transport: use nats://HOST:PORT, redis://HOST:PORT, kafka://HOST:PORT or the path of an embedded log file`,
    );
  }
  return { kind: 'embedded', path: url.replace(/^file:/, '') };
}

/** The broker kind a URL's scheme names, or `undefined`. */
export function brokerKindOf(url: string): BrokerKind | undefined {
  const scheme = /^([a-z]+):\/\//i.exec(url)?.[1]?.toLowerCase();
  return scheme === 'nats' || scheme === 'redis' || scheme === 'kafka' ? scheme : undefined;
}

function unavailable(module: string, where: string, cause?: unknown): SluiceError {
  return new SluiceError(
    'SLUICE_ADAPTER_MISSING',
    `the transport ${where} needs the ${module} package, which is not installed or does not provide a transport in this version: npm install ${module}`,
    { cause },
  );
}
