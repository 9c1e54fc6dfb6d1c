/**
 * A live member of a consumer group as {@link assignPartitions} sees it. Transports that keep group membership
 * themselves own building it from their heartbeats: the member's id and the topics it subscribed to.
 */
export interface AssignableMember {
  readonly memberId: string;
  readonly topics: ReadonlySet<string>;
}
