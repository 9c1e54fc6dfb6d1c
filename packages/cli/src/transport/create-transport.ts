import { resolve } from 'node:path';
import { InvalidOptionError, SluiceError, type Transport } from '@sluice/core';
import { createLogTransport } from '@sluice/sqlite';
import type { TransportConfig } from './transport-config.js';

/** The distributed transports, each in its own package, loaded only when asked for. */
const ADAPTERS = {
  nats: { module: '@sluice/nats', factory: 'createNatsTransport' },
  redis: { module: '@sluice/redis', factory: 'createRedisTransport' },
  kafka: { module: '@sluice/kafka', factory: 'createKafkaTransport' },
} as const;

type BrokerKind = keyof typeof ADAPTERS;

/**
 * Opens the bus a {@link TransportConfig} names. A broker adapter is imported on demand, so an application
 * needs only the adapter package it uses; a missing one is a `SLUICE_ADAPTER_MISSING` error that names
 * the package to install.
 *
 * ```ts
 * const transport = await createTransport({ kind: 'nats', url: 'nats://127.0.0.1:4222' });
 * createRelay({ outbox, transport, topics }).start();
 * ```
 */
export async function createTransport(config: TransportConfig): Promise<Transport> {
  if (config.kind === 'embedded') return createLogTransport({ path: resolve(config.path) });
  const adapter = ADAPTERS[config.kind as BrokerKind];
  if (adapter === undefined) {
    throw new InvalidOptionError(
      'createTransport',
      'kind',
      `must be embedded, nats, redis or kafka, got ${JSON.stringify((config as { kind: unknown }).kind)}`,
    );
  }
  let factory: unknown;
  try {
    factory = ((await import(adapter.module)) as Record<string, unknown>)[adapter.factory];
  } catch (cause) {
    throw unavailable(adapter.module, config.url, cause);
  }
  if (typeof factory !== 'function') throw unavailable(adapter.module, config.url);
  // Every adapter's factory takes the broker URL as `url`, a `namespace` and defaults for the rest.
  return (factory as (o: Record<string, unknown>) => Transport | Promise<Transport>)({
    ...config.options,
    url: config.url,
    ...(config.namespace === undefined ? {} : { namespace: config.namespace }),
  });
}

/** The broker kind a URL's scheme names, or `undefined`. */
export function brokerKindOf(url: string): BrokerKind | undefined {
  const scheme = /^([a-z]+):\/\//i.exec(url)?.[1]?.toLowerCase();
  return scheme !== undefined && scheme in ADAPTERS ? (scheme as BrokerKind) : undefined;
}

function unavailable(module: string, url: string, cause?: unknown): SluiceError {
  return new SluiceError(
    'SLUICE_ADAPTER_MISSING',
    `the transport ${url} needs the ${module} package, which is not installed or does not provide a transport in this version: npm install ${module}`,
    { cause },
  );
}
