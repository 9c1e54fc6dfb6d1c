import type { TopicPartition } from '../records.js';
import type { CommitPosition, HeartbeatResult, MembershipStore, StoredMember } from './membership-store.js';

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** One group's state in process memory, shared by every member of the group. */
export interface MemoryGroupState {
  readonly members: Map<string, StoredMember>;
  readonly committed: Map<string, bigint>;
}

/** An empty group state. */
export function createMemoryGroupState(): MemoryGroupState {
  return { members: new Map(), committed: new Map() };
}

/**
 * A {@link MembershipStore} in process memory: the memory transport's, and the one the engine's unit tests use.
 * `onChange` is called when a member joins or leaves (the memory transport wakes its waiting polls).
 */
export class MemoryMembershipStore implements MembershipStore {
  readonly #state: MemoryGroupState;
  readonly #sessionTimeoutMs: number;
  readonly #onChange: () => void;

  constructor(state: MemoryGroupState, sessionTimeoutMs: number, onChange: () => void = () => undefined) {
    this.#state = state;
    this.#sessionTimeoutMs = sessionTimeoutMs;
    this.#onChange = onChange;
  }

  async heartbeat(memberId: string, topics: readonly string[], now: number): Promise<HeartbeatResult> {
    const previous = this.#state.members.get(memberId);
    this.#state.members.set(memberId, {
      memberId,
      topics: new Set(topics),
      expiresAt: now + this.#sessionTimeoutMs,
    });
    if (previous === undefined || previous.expiresAt < now) this.#onChange();
    return { written: true, previousExpiresAt: previous?.expiresAt };
  }

  async members(): Promise<readonly StoredMember[]> {
    return [...this.#state.members.values()];
  }

  async committed(topic: string, partitions: readonly number[]): Promise<readonly (bigint | undefined)[]> {
    return partitions.map((p) => this.#state.committed.get(tpKey(topic, p)));
  }

  async commit(positions: readonly CommitPosition[]): Promise<boolean> {
    for (const { topic, partition, next } of positions) {
      const key = tpKey(topic, partition);
      if (next > (this.#state.committed.get(key) ?? -1n)) this.#state.committed.set(key, next);
    }
    return true;
  }

  async leave(memberId: string, pending: readonly CommitPosition[], _owned: readonly TopicPartition[]) {
    await this.commit(pending);
    this.#state.members.delete(memberId);
    this.#onChange();
  }

  /** A group's committed position in one partition, `undefined` where it never committed. */
  static position(state: MemoryGroupState, topic: string, partition: number): bigint | undefined {
    return state.committed.get(tpKey(topic, partition));
  }

  /** Sets a group's committed position directly (replay by `resetOffsets`). */
  static reset(state: MemoryGroupState, topic: string, partition: number, next: bigint): void {
    state.committed.set(tpKey(topic, partition), next);
  }
}
