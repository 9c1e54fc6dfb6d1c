import type { EventContract, EventInput } from '../contracts/define-event.js';
import { encodeEnvelope } from '../envelope/codec.js';
import type { EventContext } from '../envelope/envelope.js';
import type { ChainCheck } from '../inbox/chain-check.js';
import type { BatchEvent, BatchOutcome, InboxStore } from '../inbox/inbox-store.js';
import type { OutboxBatch, OutboxRow, OutboxStats, OutboxStore } from '../outbox/outbox-store.js';
import { envelopeOf, prepareEvent } from '../outbox/prepare-event.js';
import type { RelayLease } from '../outbox/relay-lease.js';
import { chainOf } from '../outbox/sequence-gate.js';
import { waitForWake } from '../util/wait-for-wake.js';

/**
 * In-memory outbox and inbox for unit tests of the relay and consumer runtimes only (never for claims about
 * durability: those are tested against real databases).
 */
export class MemoryOutbox implements OutboxStore {
  readonly name = 'memory';
  readonly rows: OutboxRow[] = [];
  #position = 0;
  #waiters = new Set<() => void>();
  #lease: { owner: string; expiresAt: number } | undefined;

  #sequences = new Map<string, number>();

  /**
   * Appends an event as a store does: `prepareEvent` (validation, the append span), the key's next sequence,
   * the encoded envelope with source `urn:memory`. There is no transaction: the row is pending at once.
   */
  append<C extends EventContract>(contract: C, data: EventInput<C>, context?: EventContext): OutboxRow {
    const event = prepareEvent(contract, data, context);
    const chain = `${event.topic}\u0000${event.key}`;
    const sequence = (this.#sequences.get(chain) ?? 0) + 1;
    this.#sequences.set(chain, sequence);
    const value = encodeEnvelope(envelopeOf(event, 'urn:memory', sequence, context));
    return this.add(event.topic, event.key, value, event.id);
  }

  add(topic: string, key: string, value: string | null, id: string = crypto.randomUUID()): OutboxRow {
    const row = { position: ++this.#position, id, topic, key, value };
    this.rows.push(row);
    for (const w of [...this.#waiters]) w();
    return row;
  }

  async readPending(cursor: string | undefined, limit: number): Promise<OutboxBatch> {
    const after = cursor === undefined ? 0 : Number(cursor);
    const rows = this.rows.filter((r) => r.position > after).slice(0, limit);
    return { rows, cursor: rows.length === 0 ? cursor : String(rows[rows.length - 1]!.position) };
  }

  async acknowledge(rows: readonly OutboxRow[]): Promise<void> {
    const done = new Set(rows.map((r) => r.position));
    for (let i = this.rows.length - 1; i >= 0; i--)
      if (done.has(this.rows[i]!.position)) this.rows.splice(i, 1);
  }

  waitForAppend(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return waitForWake(this.#waiters, timeoutMs, signal);
  }

  /** One lease for the whole outbox (a single partition). */
  async acquireLease(owner: string, ttlMs: number): Promise<RelayLease> {
    const now = Date.now();
    if (this.#lease && this.#lease.owner !== owner && this.#lease.expiresAt > now) {
      return { partitions: [], partitionCount: 1 };
    }
    this.#lease = { owner, expiresAt: now + ttlMs };
    return { partitions: [0], partitionCount: 1 };
  }

  async releaseLease(owner: string): Promise<void> {
    if (this.#lease?.owner === owner) this.#lease = undefined;
  }

  async stats(): Promise<OutboxStats> {
    const oldestPendingAgeMs = this.rows.length ? 0 : null;
    const live = this.#lease !== undefined && this.#lease.expiresAt > Date.now() ? this.#lease : undefined;
    return {
      pending: this.rows.length,
      oldestPendingAgeMs,
      partitions: [
        {
          partition: 0,
          owner: live?.owner ?? null,
          leaseExpiresInMs: live ? live.expiresAt - Date.now() : null,
          pending: this.rows.length,
          oldestPendingAgeMs,
        },
      ],
    };
  }

  async close(): Promise<void> {}
}

/** Inbox whose "transaction" is: check, apply, record (no partial state survives a throwing apply). */
export class MemoryInbox implements InboxStore<{ effects: string[] }> {
  readonly name = 'memory';
  readonly applied = new Map<string, Set<string>>();
  /** Per group, each chain's (`chainOf(source, topic, key)`) last applied sequence. */
  readonly chains = new Map<string, Map<string, number>>();
  /** Per group, whether its chains are tracked from their first event (what `startGroup` recorded). */
  readonly groups = new Map<string, boolean>();
  readonly effects: string[] = [];
  /** Sizes of the batches `runBatch` was called with. */
  readonly batches: number[] = [];

  async runOnce(
    group: string,
    eventId: string,
    apply: (tx: { effects: string[] }) => unknown,
    chain?: ChainCheck,
  ): Promise<'applied' | 'duplicate' | 'refused'> {
    const seen = this.applied.get(group) ?? new Set<string>();
    this.applied.set(group, seen);
    if (seen.has(eventId)) return 'duplicate';
    const chains = this.chains.get(group) ?? new Map<string, number>();
    this.chains.set(group, chains);
    const id = chain && chainOf(chain.source, chain.topic, chain.key);
    let next: number | undefined;
    if (chain && id !== undefined) {
      next = chain.check(chains.get(id));
      if (next === undefined) return 'refused';
    }
    const tx = { effects: [] as string[] };
    await apply(tx);
    seen.add(eventId);
    if (id !== undefined && next !== undefined) chains.set(id, next);
    this.effects.push(...tx.effects);
    return 'applied';
  }

  /** Batches: each event as in `runOnce`, a throwing one undone alone. */
  async runBatch(
    group: string,
    events: readonly BatchEvent<{ effects: string[] }>[],
  ): Promise<BatchOutcome[]> {
    this.batches.push(events.length);
    const outcomes: BatchOutcome[] = [];
    for (const e of events) {
      try {
        outcomes.push({ status: await this.runOnce(group, e.eventId, e.apply, e.chain) });
      } catch (error) {
        outcomes.push({ status: 'failed', error });
      }
    }
    return outcomes;
  }

  async passChain(group: string, chain: ChainCheck): Promise<'passed' | 'refused'> {
    const chains = this.chains.get(group) ?? new Map<string, number>();
    this.chains.set(group, chains);
    const id = chainOf(chain.source, chain.topic, chain.key);
    const next = chain.check(chains.get(id));
    if (next === undefined) return 'refused';
    chains.set(id, next);
    return 'passed';
  }

  async startGroup(group: string, fromStart: boolean): Promise<boolean> {
    const recorded = this.groups.get(group);
    if (recorded !== undefined) return recorded;
    const empty = !this.applied.get(group)?.size && !this.chains.get(group)?.size;
    this.groups.set(group, fromStart && empty);
    return fromStart && empty;
  }

  async close(): Promise<void> {}
}
