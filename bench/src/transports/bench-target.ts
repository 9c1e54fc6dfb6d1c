import type { RawClient } from './raw-client.js';

/** A broker the transports benchmark runs against: how Sluice reaches it and its raw-client baseline. */
export interface BenchTarget {
  /** `nats`, `redis` or `kafka`: the `kind` of Sluice's transport configuration. */
  readonly kind: 'nats' | 'redis' | 'kafka';
  /** Names the results (`<name>-throughput`, `<name>-latency-1000`). */
  readonly name: string;
  /** Environment set while this target's benchmarks run (inherited by the processes they start). */
  readonly env?: Readonly<Record<string, string>>;
  /** The broker URL (starting the server with scripts/services if needed). */
  url(): string;
  /** The raw client on a stream/topic of `partitions` partitions, named inside `namespace`. */
  openRaw(namespace: string, partitions: number): Promise<RawClient>;
}
