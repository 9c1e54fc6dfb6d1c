import { SluiceError, type Transport } from '@sluice/core';
import type { OptionSpec, Resolved } from './options.js';
import { brokerKindOf, createTransport } from './transport/create-transport.js';
import type { TransportConfig } from './transport/transport-config.js';

export const TRANSPORT_OPTION: OptionSpec = {
  name: 'transport',
  type: 'string',
  description:
    'the bus: `embedded` (the --log file), or a broker URL: nats://HOST:PORT (NATS JetStream), redis://HOST:PORT (Redis Streams), kafka://HOST:PORT[,HOST:PORT] (Kafka)',
  default: 'embedded',
};

export const NAMESPACE_OPTION: OptionSpec = {
  name: 'namespace',
  type: 'string',
  description:
    'with a broker --transport: a prefix for every stream, topic and key Sluice creates there, so several environments can share one broker',
};

/** The {@link TransportConfig} that `--transport`, `--log` and `--namespace` describe. */
export function transportConfig(options: Resolved): TransportConfig {
  const spec = String(options['transport'] ?? 'embedded');
  if (spec === 'embedded') return { kind: 'embedded', path: String(options['log']) };
  const kind = brokerKindOf(spec);
  if (kind === undefined) {
    throw new SluiceError(
      'SLUICE_INVALID_OPTION',
      `--transport ${spec} is not a transport: use embedded, nats://HOST:PORT, redis://HOST:PORT or kafka://HOST:PORT`,
    );
  }
  const namespace = options['namespace'];
  return { kind, url: spec, ...(typeof namespace === 'string' && namespace !== '' ? { namespace } : {}) };
}

/**
 * Opens the bus named by `--transport`: the embedded log in `--log` (the default), or a broker by URL. A broker
 * adapter is imported on demand, so the CLI needs only the adapter packages it is used with; a missing one is
 * a clear error that names the package to install.
 */
export function openTransport(options: Resolved): Promise<Transport> {
  return createTransport(transportConfig(options));
}
