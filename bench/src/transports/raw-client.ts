/** A record as the raw-client baselines publish it: the same key, partition and bytes Sluice sends. */
export interface RawRecord {
  readonly key: string;
  readonly partition: number;
  readonly value: string;
  readonly id: string;
}

/**
 * A broker's own client used the way its documentation recommends for throughput, without Sluice: the
 * baseline that Sluice's relay and consumer rates are divided by. Implementers own creating their streams or
 * topics in `open`, publishing with every acknowledgement awaited (as durable as Sluice's publish), consuming
 * with positions committed, and deleting what they created in `close`.
 */
export interface RawClient {
  /** Publishes every record and resolves once the broker acknowledged all of them. */
  publish(records: readonly RawRecord[]): Promise<void>;
  /**
   * Reads `count` records published by `publish` (from the start), parsing each value as JSON (what any
   * consumer does before using an event) and committing positions as it goes. Resolves with the
   * `performance.now()` at which the first record was parsed: the time before it (joining a group, creating a
   * consumer) is startup, reported apart from the rate.
   */
  consume(count: number): Promise<number>;
  close(): Promise<void>;
}
