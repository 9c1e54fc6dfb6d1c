/**
 * Which bus to use, as configuration: the relay, the consumers and the CLI run unchanged on every one.
 *
 * - `embedded`: the single-file log of `@sluice/sqlite` at `path` (the default).
 * - `nats`, `redis`, `kafka`: a broker at `url` (`nats://host:port[,host:port]`, `redis://host:port`,
 *   `kafka://host:port[,host:port]`), through `@sluice/nats`, `@sluice/redis` or `@sluice/kafka`, which must
 *   be installed. `namespace` prefixes every stream, topic or key the transport creates, so several
 *   environments (or a demo) can share one broker without seeing each other's events.
 *
 * `options` are passed to the adapter's factory as they are (see each package's options type).
 */
export type TransportConfig =
  | {
      readonly kind: 'embedded';
      readonly path: string;
      readonly options?: Readonly<Record<string, unknown>>;
    }
  | {
      readonly kind: 'nats' | 'redis' | 'kafka';
      readonly url: string;
      readonly namespace?: string;
      readonly options?: Readonly<Record<string, unknown>>;
    };
