import type { TopicPartition } from '@sluice/core';
import type { CommitPosition, HeartbeatResult, MembershipStore, StoredMember } from '@sluice/core/adapter';

import { type CursorContext, NatsCursor } from './nats-cursor.js';
import type { Heartbeat, NatsGroups } from './nats-groups.js';

const PULL = 256;

/**
 * A consumer group's state on JetStream (see {@link NatsGroups}): heartbeats in the members stream (one
 * message per member subject, with its topics and session timeout, a `left` marker when it closed; a member
 * is alive until its last heartbeat's server timestamp plus its session timeout), committed positions in the
 * offsets stream. The members are read with a cursor from the last message per subject on and cached: read
 * again every `refreshMs`, or when a cached member's heartbeat runs out.
 *
 * The offsets stream keeps the last position written, not the highest: positions move forward only because
 * a partition's owner alone commits it and the engine never writes a position behind one it wrote or read.
 * JetStream does not say whether a member's previous heartbeat had run out, so `heartbeat` answers from this
 * member's own last acknowledged heartbeat: silent for a whole session means the others may have taken its
 * partitions. Member ids in the answers are the subject tokens (`token(memberId)`).
 */
export class NatsMembershipStore implements MembershipStore {
  readonly #ctx: CursorContext;
  readonly #groups: NatsGroups;
  readonly #group: string;
  /** The member id as given (the subject holds its token). */
  readonly #memberId: string;
  readonly #sessionTimeoutMs: number;
  readonly #refreshMs: number;
  readonly #members = new Map<string, StoredMember>();
  #cursor: NatsCursor | undefined;
  #readAt = 0;
  #lastWrittenAt: number | undefined;
  /** The topics of this member's last heartbeat (repeated in its `left` marker). */
  #topics: readonly string[] = [];

  constructor(
    ctx: CursorContext,
    groups: NatsGroups,
    group: string,
    memberId: string,
    sessionTimeoutMs: number,
    refreshMs: number,
  ) {
    this.#ctx = ctx;
    this.#groups = groups;
    this.#group = group;
    this.#memberId = memberId;
    this.#sessionTimeoutMs = sessionTimeoutMs;
    this.#refreshMs = refreshMs;
  }

  /** When the cached members were last read (ms since the epoch). */
  get readAt(): number {
    return this.#readAt;
  }

  async heartbeat(_memberId: string, topics: readonly string[]): Promise<HeartbeatResult> {
    this.#topics = topics;
    await this.#groups.heartbeat(this.#group, this.#memberId, this.#beat(topics, false));
    const previous = this.#lastWrittenAt;
    const now = Date.now();
    this.#lastWrittenAt = now;
    return {
      written: true,
      previousExpiresAt: previous === undefined ? undefined : previous + this.#sessionTimeoutMs,
    };
  }

  async members(now: number): Promise<readonly StoredMember[]> {
    let nextExpiry = Number.POSITIVE_INFINITY;
    for (const m of this.#members.values())
      if (m.expiresAt >= now) nextExpiry = Math.min(nextExpiry, m.expiresAt);
    if (this.#readAt === 0 || now - this.#readAt >= this.#refreshMs || now > nextExpiry) await this.#read();
    return [...this.#members.values()];
  }

  async committed(topic: string, partitions: readonly number[]): Promise<readonly (bigint | undefined)[]> {
    const out: (bigint | undefined)[] = [];
    for (const partition of partitions) {
      const next = await this.#groups.committed(this.#group, topic, partition);
      out.push(next === undefined ? undefined : BigInt(next));
    }
    return out;
  }

  /** Writes each position on its own; if any write fails, the engine keeps them all and writes them again. */
  async commit(positions: readonly CommitPosition[]): Promise<boolean> {
    const results = await Promise.allSettled(
      positions.map((p) => this.#groups.commit(this.#group, p.topic, p.partition, Number(p.next))),
    );
    return results.every((r) => r.status === 'fulfilled');
  }

  /** Writes pending commits and the `left` marker; a server that cannot be reached is no failure here. */
  async leave(_memberId: string, pending: readonly CommitPosition[], _owned: readonly TopicPartition[]) {
    await this.commit(pending).catch(() => false);
    this.close();
    await this.#groups
      .heartbeat(this.#group, this.#memberId, this.#beat(this.#topics, true))
      .catch(() => undefined);
  }

  /** Closes the members cursor. */
  close(): void {
    this.#cursor?.close();
    this.#cursor = undefined;
  }

  #beat(topics: readonly string[], left: boolean): Heartbeat {
    return { topics, sessionTimeoutMs: this.#sessionTimeoutMs, ...(left ? { left: true } : {}) };
  }

  async #read(): Promise<void> {
    const names = this.#groups.names;
    if (this.#cursor === undefined || this.#cursor.broken) {
      this.#members.clear();
      this.#cursor = await NatsCursor.open(this.#ctx, names.membersStream, names.membersFilter(this.#group), {
        lastPerSubject: true,
      });
    }
    for (;;) {
      const batch = await this.#cursor.pull(PULL);
      for (const m of batch) {
        const id = m.subject.slice(m.subject.lastIndexOf('.') + 1);
        let beat: Heartbeat;
        try {
          beat = JSON.parse(m.body) as Heartbeat;
        } catch {
          continue;
        }
        if (beat.left === true) this.#members.delete(id);
        else {
          this.#members.set(id, {
            memberId: id,
            topics: new Set(beat.topics),
            expiresAt: m.timestamp + beat.sessionTimeoutMs,
          });
        }
      }
      if (batch.length < PULL) break;
    }
    this.#readAt = Date.now();
  }
}
