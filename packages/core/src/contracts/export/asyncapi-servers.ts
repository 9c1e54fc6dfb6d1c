import { transportConfigOf } from '../../transport/create-transport.js';
import type { TransportConfig } from '../../transport/transport-config.js';

/** An AsyncAPI 3.0 Server Object, as Sluice writes them. */
export interface AsyncApiServer {
  readonly host: string;
  readonly protocol: string;
  readonly pathname?: string;
  readonly title: string;
  readonly description: string;
  readonly 'x-sluice': { readonly transport: TransportConfig['kind']; readonly namespace?: string };
}

const NAMING: Readonly<Record<'kafka' | 'nats' | 'redis', string>> = {
  kafka:
    'Kafka topic `<namespace>.<topic>` (or `<topic>` without a namespace); the record key is the partition key',
  nats: 'JetStream stream `SLUICE-<namespace>-<topic>`, subjects `sluice.<namespace>.t.<topic>.<partition>`',
  redis: 'one stream per partition, key `<prefix>:stream:<topic>:<partition>`',
};

/**
 * One AsyncAPI server per configured transport (`transports` of a service config), named as in the config:
 * broker URLs give host and port only (never credentials; of a broker list, the first, with the others named in
 * the description), an embedded log its file as `pathname` with protocol `sluice-embedded`.
 */
export function asyncApiServers(
  transports: Readonly<Record<string, TransportConfig | string>>,
): Record<string, AsyncApiServer> {
  const out: Record<string, AsyncApiServer> = {};
  for (const [name, raw] of Object.entries(transports)) {
    const config = typeof raw === 'string' ? transportConfigOf(raw) : raw;
    const id = name.replace(/[^A-Za-z0-9_-]/g, '-');
    if (config.kind === 'embedded') {
      out[id] = {
        host: 'localhost',
        protocol: 'sluice-embedded',
        pathname: config.path,
        title: `${name}: embedded log`,
        description: `Sluice's embedded log: the SQLite file \`${config.path}\` (table \`sluice_log_records\`), shared by the relay and the consumers on this host.`,
        'x-sluice': { transport: 'embedded' },
      };
      continue;
    }
    const hosts = hostsOf(config.url);
    const ns = config.namespace;
    out[id] = {
      host: hosts[0] ?? 'localhost',
      protocol: config.kind,
      title: `${name}: ${config.kind}`,
      description: [
        hosts.length > 1 ? `Hosts: ${hosts.join(', ')}.` : undefined,
        ns === undefined ? 'No namespace.' : `Namespace \`${ns}\`.`,
        `${NAMING[config.kind]}.`,
      ]
        .filter(Boolean)
        .join(' '),
      'x-sluice': { transport: config.kind, ...(ns === undefined ? {} : { namespace: ns }) },
    };
  }
  return out;
}

/** `host:port` of each host of a broker URL (`kafka://user:pw@h1:9092,h2:9092/...`), without credentials. */
function hostsOf(url: string): string[] {
  const rest = url.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const authority = rest.split(/[/?#]/)[0] ?? '';
  const hosts = authority.slice(authority.lastIndexOf('@') + 1);
  return hosts
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
}
