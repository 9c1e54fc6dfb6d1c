import { DiscardPolicy, type JetStreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { natsError } from './nats-errors.js';
import type { NatsNames } from './nats-names.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** How long a member's last heartbeat is kept in the members stream (far longer than any session). */
const MEMBERS_MAX_AGE_NS = 60 * 60 * 1_000_000_000;

/** A member's heartbeat as stored in the members stream. */
export interface Heartbeat {
  readonly topics: readonly string[];
  readonly sessionTimeoutMs: number;
  /** Set when the member left the group. */
  readonly left?: boolean;
}

/**
 * Consumer-group state on the server, in two streams per namespace, both keeping one message per subject:
 *
 * - members: `members.<group>.<member>` holds each member's last heartbeat (its topics and session timeout; a
 *   `left` marker when it closed). Members read it with a cursor from the last message per subject on, and
 *   consider a member alive while its last heartbeat's server timestamp + its session timeout is in the future.
 * - offsets: `offsets.<group>.<topic>.<partition>` holds the group's committed position (the next stream
 *   sequence to read). Read with a leader-only `STREAM.MSG.GET` (never a replica's direct get, which may lag),
 *   so a member taking over a partition sees every commit acknowledged before the previous owner left.
 */
export class NatsGroups {
  readonly #nc: NatsConnection;
  readonly #jsm: JetStreamManager;
  readonly #names: NatsNames;
  readonly #replicas: number;
  readonly #timeoutMs: number;
  #ready: Promise<void> | undefined;

  constructor(
    nc: NatsConnection,
    jsm: JetStreamManager,
    names: NatsNames,
    replicas: number,
    timeoutMs: number,
  ) {
    this.#nc = nc;
    this.#jsm = jsm;
    this.#names = names;
    this.#replicas = replicas;
    this.#timeoutMs = timeoutMs;
  }

  get names(): NatsNames {
    return this.#names;
  }

  /** Creates the members and offsets streams once per transport. */
  ensureStreams(): Promise<void> {
    this.#ready ??= this.#createStreams().catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  async #createStreams(): Promise<void> {
    const names = this.#names;
    const root = names.membersFilter('x').split('.members.')[0]!;
    const streams = [
      { name: names.membersStream, subjects: [`${root}.members.>`], max_age: MEMBERS_MAX_AGE_NS },
      { name: names.offsetsStream, subjects: [`${root}.offsets.>`], max_age: 0 },
    ];
    for (const s of streams) {
      try {
        await this.#jsm.streams.info(s.name);
        continue;
      } catch (error) {
        if ((error as { code?: unknown }).code !== 10059) throw natsError(`reading stream ${s.name}`, error);
      }
      try {
        await this.#jsm.streams.add({
          ...s,
          retention: RetentionPolicy.Limits,
          storage: StorageType.File,
          discard: DiscardPolicy.Old,
          max_msgs_per_subject: 1,
          num_replicas: this.#replicas,
        });
        await waitForLeader(this.#jsm, s.name, this.#timeoutMs);
      } catch (error) {
        // Created concurrently by another client is fine.
        await this.#jsm.streams.info(s.name).catch(() => {
          throw natsError(`creating stream ${s.name}`, error);
        });
      }
    }
  }

  /** Stores a member's heartbeat (or its `left` marker); resolves once the stream acknowledged it. */
  async heartbeat(group: string, member: string, beat: Heartbeat): Promise<void> {
    await this.#store(this.#names.memberSubject(group, member), JSON.stringify(beat), 'heartbeat');
  }

  /** The group's committed position (next sequence) in a partition, or `undefined` if none. */
  async committed(group: string, topic: string, partition: number): Promise<number | undefined> {
    try {
      const msg = await this.#jsm.streams.getMessage(this.#names.offsetsStream, {
        last_by_subj: this.#names.offsetSubject(group, topic, partition),
      });
      if (msg === null) return undefined;
      const n = Number(decoder.decode(msg.data));
      return Number.isSafeInteger(n) ? n : undefined;
    } catch (error) {
      if ((error as { code?: unknown }).code === 10037) return undefined; // no message found
      throw natsError(`reading the committed offset of ${group} in ${topic}/${partition}`, error);
    }
  }

  /** Stores the group's committed position (next sequence) in a partition. */
  async commit(group: string, topic: string, partition: number, next: number): Promise<void> {
    await this.#store(this.#names.offsetSubject(group, topic, partition), String(next), 'commit');
  }

  async #store(subject: string, body: string, action: string): Promise<void> {
    // A stream just created on a cluster may not have a leader (or its interest) yet: "no responders"
    // is retried for a short while.
    const deadline = Date.now() + Math.min(this.#timeoutMs, 3000);
    let reply: { data: Uint8Array };
    for (let wait = 10; ; wait = Math.min(wait * 2, 200)) {
      try {
        reply = await this.#nc.request(subject, encoder.encode(body), { timeout: this.#timeoutMs });
        break;
      } catch (error) {
        if (!isNoResponders(error) || Date.now() + wait > deadline) throw natsError(action, error);
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
    const ack = JSON.parse(decoder.decode(reply.data)) as { seq?: number; error?: { description: string } };
    if (ack.error !== undefined || typeof ack.seq !== 'number') {
      throw natsError(action, new Error(ack.error?.description ?? 'invalid ack'));
    }
  }
}

/** Whether a request failed because nothing listens on the subject (no stream leader yet, or no stream). */
export function isNoResponders(error: unknown): boolean {
  return /no responders/i.test(String((error as Error)?.message ?? error));
}

/** Waits until a just-created stream has a leader (on a single server: at once). */
export async function waitForLeader(jsm: JetStreamManager, stream: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await jsm.streams.info(stream).catch(() => undefined);
    if (info !== undefined && (info.cluster === undefined || info.cluster.leader)) return;
    if (Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
