/** A record handed to a transport for publishing. */
export interface OutgoingRecord {
  readonly topic: string;
  /** Partition key; records with one key keep their order. */
  readonly key: string;
  /**
   * The encoded envelope (a CloudEvent in the JSON event format: structured mode, see docs/cloudevents.md), or
   * `null` for a tombstone on an entity topic. Binary mode instead puts the data here and the attributes in
   * `ce_` headers with its own `content-type`.
   */
  readonly value: string | null;
  /** The event id, used by transports that de-duplicate publishes (e.g. JetStream's `Nats-Msg-Id`). */
  readonly id: string;
  /** Extra headers (dead letters carry their reason here). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Where a published record was stored. */
export interface PublishAck {
  readonly topic: string;
  readonly partition: number;
  /** Transport-defined position, opaque to callers except for display and `seek`. */
  readonly offset: string;
}

/** A record delivered to a subscriber. */
export interface ConsumedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string;
  readonly value: string | null;
  readonly headers: Readonly<Record<string, string>>;
  /** Milliseconds since the epoch when the transport stored the record. */
  readonly timestamp: number;
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** Where to move a consumer group's position in a topic. */
export type SeekTarget =
  | { readonly to: 'earliest' }
  | { readonly to: 'latest' }
  /** The first record at or after this time (ms since the epoch) in every partition. */
  | { readonly to: 'time'; readonly time: number }
  /** This offset in one partition (the next record read is the one at `offset`). */
  | { readonly to: 'offset'; readonly partition: number; readonly offset: string };

export interface SubscribeOptions {
  /** Consumer group: members of one group split the partitions; each group gets every record. */
  readonly group: string;
  readonly topics: readonly string[];
  /** Where a group with no committed position starts. Default `earliest`. */
  readonly startFrom?: 'earliest' | 'latest';
  /** Stable member id; default a random one. */
  readonly memberId?: string;
  /**
   * An ephemeral reader (tail, dlq list): reads every partition, joins no group, commits nothing.
   * `group` is then only a label.
   */
  readonly ephemeral?: boolean;
}

export interface PollOptions {
  readonly maxRecords: number;
  /** How long to wait for records when none are ready; 0 returns at once. */
  readonly maxWaitMs: number;
  readonly signal?: AbortSignal;
}
