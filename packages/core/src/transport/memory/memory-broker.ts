import type { TopicKind } from '../../contracts/define-topic.js';
import { TransportError } from '../../errors.js';
import {
  createMemoryGroupState,
  type MemoryGroupState,
  MemoryMembershipStore,
} from '../groups/memory-membership-store.js';
import type { PartitionLag } from '../partition-lag.js';
import type { SeekTarget } from '../records.js';
import type { MemoryTransportOptions } from './memory-transport.js';

/** The in-process broker every client of one memory transport shares: topics, groups and waiting polls. */
export type Settings = Readonly<Required<MemoryTransportOptions>>;
export interface Stored {
  readonly offset: number;
  readonly key: string;
  readonly value: string | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly timestamp: number;
}
export interface Topic {
  readonly name: string;
  readonly kind: TopicKind;
  readonly partitions: { records: Stored[]; next: number }[];
  retentionMs: number;
}
export interface Broker {
  readonly topics: Map<string, Topic>;
  readonly groups: Map<string, MemoryGroupState>;
  readonly waiters: Set<() => void>;
}

export const NAME = 'memory';
export const DAY = 24 * 60 * 60 * 1000;
export const EMPTY: Readonly<Record<string, string>> = Object.freeze({});
export const wakeAll = (broker: Broker) => {
  for (const wake of [...broker.waiters]) wake();
};

/** A group's state on the broker, created on first use. */
export function groupOf(broker: Broker, group: string): MemoryGroupState {
  let state = broker.groups.get(group);
  if (state === undefined) {
    state = createMemoryGroupState();
    broker.groups.set(group, state);
  }
  return state;
}

/** The partitions `target` applies to: one for an `offset` target, all otherwise. */
export function partitionsOf(topic: Topic, target: SeekTarget): number[] {
  if (target.to !== 'offset') return topic.partitions.map((_, p) => p);
  if (
    !Number.isInteger(target.partition) ||
    target.partition < 0 ||
    target.partition >= topic.partitions.length
  ) {
    throw new TransportError(
      'SLUICE_INVALID_PARTITION',
      `${NAME}: topic ${topic.name} has no partition ${target.partition}`,
    );
  }
  return [target.partition];
}

/** A group's lag in each partition of a (swept) topic: visible records at or after its committed position. */
export function lagOf(topic: Topic, group: MemoryGroupState | undefined, now: number): PartitionLag[] {
  const oldest = now - topic.retentionMs;
  return topic.partitions.map((log, partition) => {
    const committed =
      group === undefined ? undefined : MemoryMembershipStore.position(group, topic.name, partition);
    const from = committed ?? 0n;
    const lag = log.records.filter((s) => BigInt(s.offset) >= from && s.timestamp >= oldest).length;
    return { partition, committed: committed?.toString() ?? null, end: String(log.next), lag };
  });
}
