import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  brokerKindOf,
  createTransport,
  SluiceError,
  type Transport,
  type TransportConfig,
} from '@sluice/core';
import { type OptionSpec, type Resolved, UsageError } from './options.js';

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
    throw new UsageError(
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
 *
 * With `readOnly` (commands that only read: tail, dlq list/show, audit), an embedded log that does not exist is
 * an error instead of a new empty file: a command that reads must create nothing.
 */
export function openTransport(options: Resolved, open: { readOnly?: boolean } = {}): Promise<Transport> {
  const config = transportConfig(options);
  if (open.readOnly && config.kind === 'embedded' && !existsSync(resolve(config.path))) {
    throw new UsageError(
      `no embedded log at ${resolve(config.path)}: pass --log with the file the relay writes (the demo prints its own), or --transport with a broker URL`,
    );
  }
  return createTransport(config);
}

/**
 * Rewords a transport's "unknown topic" error (written for programs: "call ensureTopic") for the person at the
 * terminal: which bus was read, and that topics appear when a relay first publishes to them.
 */
export function forTerminal(error: unknown, options: Resolved): unknown {
  if (!(error instanceof SluiceError) || error.code !== 'SLUICE_UNKNOWN_TOPIC') return error;
  const config = transportConfig(options);
  const where = config.kind === 'embedded' ? `the embedded log ${resolve(config.path)}` : config.url;
  const topic = /topic ("[^"]*")/.exec(error.message)?.[1] ?? 'that topic';
  return new SluiceError(
    'SLUICE_UNKNOWN_TOPIC',
    `${where} has no topic ${topic}: a topic appears when a relay first publishes to it; check the name (and --namespace for a broker)`,
    { cause: error },
  );
}
