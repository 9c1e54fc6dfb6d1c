import { resolve } from 'node:path';
import { SluiceError, type Transport } from '@sluice/core';
import { createLogTransport } from '@sluice/sqlite';
import type { OptionSpec, Resolved } from './options.js';

export const TRANSPORT_OPTION: OptionSpec = {
  name: 'transport',
  type: 'string',
  description:
    'the bus: `embedded` (the --log file), or a broker URL: nats://HOST:PORT (NATS JetStream), redis://HOST:PORT (Redis Streams), kafka://HOST:PORT[,HOST:PORT] (Kafka)',
  default: 'embedded',
};

/** The distributed transports, each in its own package, loaded only when asked for. */
const ADAPTERS = {
  nats: { module: '@sluice/nats', factory: 'createNatsTransport' },
  redis: { module: '@sluice/redis', factory: 'createRedisTransport' },
  kafka: { module: '@sluice/kafka', factory: 'createKafkaTransport' },
} as const;

/**
 * Opens the bus named by `--transport`: the embedded log in `--log` (the default), or a broker by URL. A broker
 * adapter is imported on demand, so the CLI needs only the adapter packages it is used with; a missing one is
 * a clear error that names the package to install.
 */
export async function openTransport(options: Resolved): Promise<Transport> {
  const spec = String(options['transport'] ?? 'embedded');
  if (spec === 'embedded') return createLogTransport({ path: resolve(String(options['log'])) });
  const scheme = /^([a-z]+):\/\//i.exec(spec)?.[1]?.toLowerCase();
  const adapter = scheme === undefined ? undefined : ADAPTERS[scheme as keyof typeof ADAPTERS];
  if (adapter === undefined) {
    throw new SluiceError(
      'SLUICE_INVALID_OPTION',
      `--transport ${spec} is not a transport: use embedded, nats://HOST:PORT, redis://HOST:PORT or kafka://HOST:PORT`,
    );
  }
  let factory: unknown;
  try {
    factory = ((await import(adapter.module)) as Record<string, unknown>)[adapter.factory];
  } catch (cause) {
    throw unavailable(adapter.module, spec, cause);
  }
  if (typeof factory !== 'function') throw unavailable(adapter.module, spec);
  // Every adapter's factory takes the broker URL as `url` (and defaults for the rest).
  return (factory as (o: { url: string }) => Transport | Promise<Transport>)({ url: spec });
}

function unavailable(module: string, spec: string, cause?: unknown): SluiceError {
  return new SluiceError(
    'SLUICE_TRANSPORT_UNAVAILABLE',
    `--transport ${spec} needs the ${module} package, which is not installed or does not provide a transport in this version: npm install ${module}`,
    { cause },
  );
}
