import { createHash } from 'node:crypto';
import { checkEvent } from '../contracts/define-event.js';
import { warnDeprecatedAppend } from '../contracts/deprecation-notice.js';
import { encodeEnvelope } from '../envelope/codec.js';
import { errorMessage, InvalidOptionError, SluiceError } from '../errors.js';
import type { OutboxBatch, OutboxRow, OutboxStats, OutboxStore } from '../outbox/outbox-store.js';
import type { RelayLease } from '../outbox/relay-lease.js';
import { type Logger, silentLogger } from '../util/logger.js';
import { snapshotForbidden } from './backfill/backfill-permission.js';
import { type ChangeMapping, declaredContracts } from './change-mapping.js';
import type { ChangeSource } from './change-source.js';
import type { RowChange } from './row-change.js';

/** Events one change may map to. */
const EVENTS_PER_CHANGE = 16;

export interface ChangeOutboxOptions {
  readonly source: ChangeSource;
  readonly map: ChangeMapping;
  /** The events' CloudEvents `source`, e.g. `urn:service:legacy-courses`. */
  readonly eventSource: string;
  /** Where warnings go (a change mapped to a deprecated contract version, once per version per process). */
  readonly logger?: Logger;
}

/** A change read and mapped, until all its events are acknowledged. */
interface HeldChange {
  readonly change: RowChange;
  unacknowledged: number;
}

/**
 * A {@link ChangeSource} seen by the relay as an outbox: each change is mapped to contract events (validated
 * like an append) and handed to the relay as rows, so the relay's ordering, batching, retries and dead-letter
 * handling apply unchanged. The source is acknowledged up to the last change whose events, and every earlier
 * change's events, the transport confirmed; a crash re-reads from there and produces the same event ids
 * (derived from the source's name, the change's transaction and its place in it), which consumers' inboxes
 * skip.
 *
 * Events' `sluiceseq` is their transaction's place in commit order (`RowChange.sequence`): it orders a key's
 * events across transactions, but it is not gap-free as an outbox's is, and events of one transaction share it.
 * The event's `time` is the transaction's commit time. A change whose mapping fails or breaks its contract
 * stops the relay with a permanent error naming the change: skipping it would lose it; fix the mapping and
 * restart. So does a backfill's snapshot row mapped to a contract that forbids backfills
 * (`SLUICE_BACKFILL_FORBIDDEN`), and, when the mapping declares its tables, a change mapped to a contract not
 * declared for its table.
 *
 * A source is read by one relay instance at a time (the source owns that), so the lease is a single partition.
 */
export class ChangeOutbox implements OutboxStore {
  readonly name: string;
  readonly #o: ChangeOutboxOptions;
  /** Mapped events not yet acknowledged, in order; the relay's cursor is the last position it was given. */
  #rows: OutboxRow[] = [];
  /** Positions of this process's rows (the relay's cursors live in memory too). */
  #nextPosition = 1;
  /** Changes read and not yet acknowledged, in order, with how many of their events are still out. */
  #changes: HeldChange[] = [];
  readonly #changeOf = new Map<number, HeldChange>();
  #closed = false;

  constructor(options: ChangeOutboxOptions) {
    if (typeof options.eventSource !== 'string' || options.eventSource === '') {
      throw new InvalidOptionError(
        'changeOutbox',
        'eventSource',
        'must be a URI such as urn:service:courses',
      );
    }
    if (typeof options.map !== 'function') {
      throw new InvalidOptionError('changeOutbox', 'map', 'must be a function from a row change to events');
    }
    this.#o = options;
    this.name = `changes:${options.source.name}`;
  }

  async readPending(cursor: string | undefined, limit: number): Promise<OutboxBatch> {
    const after = cursor === undefined ? Number.NEGATIVE_INFINITY : Number(cursor);
    let rows = this.#after(after, limit);
    if (rows.length < limit) {
      await this.#pull(limit - rows.length, 0);
      rows = this.#after(after, limit);
    }
    return { rows, cursor: rows.length === 0 ? cursor : String(rows[rows.length - 1]!.position) };
  }

  async acknowledge(rows: readonly OutboxRow[]): Promise<void> {
    if (rows.length === 0) return;
    const done = new Set<number>();
    for (const row of rows) {
      const held = this.#changeOf.get(row.position);
      if (held === undefined) continue; // acknowledged before
      this.#changeOf.delete(row.position);
      held.unacknowledged--;
      done.add(row.position);
    }
    if (done.size > 0) this.#rows = this.#rows.filter((r) => !done.has(r.position));
    await this.#acknowledgePrefix();
  }

  /** The relay read everything buffered: wait for the source's next changes (and buffer them). */
  async waitForAppend(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    await this.#pull(1000, timeoutMs, signal);
  }

  async acquireLease(): Promise<RelayLease> {
    return { partitions: [0], partitionCount: 1 };
  }

  async releaseLease(): Promise<void> {}

  async stats(): Promise<OutboxStats> {
    const oldest = this.#changes[0]?.change.commitTime;
    const oldestPendingAgeMs = oldest === undefined ? null : Math.max(0, Date.now() - oldest);
    return {
      pending: this.#rows.length,
      oldestPendingAgeMs,
      partitions: [
        { partition: 0, owner: null, leaseExpiresInMs: null, pending: this.#rows.length, oldestPendingAgeMs },
      ],
    };
  }

  /** The source's own lag (log bytes held, age of what is not yet acknowledged). */
  sourceStats(): ReturnType<ChangeSource['stats']> {
    return this.#o.source.stats();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#o.source.close();
  }

  #after(position: number, limit: number): OutboxRow[] {
    const out: OutboxRow[] = [];
    for (const row of this.#rows) {
      if (row.position <= position) continue;
      out.push(row);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Reads more changes from the source and maps them to rows. */
  async #pull(limit: number, maxWaitMs: number, signal?: AbortSignal): Promise<void> {
    const changes = await this.#o.source.read(limit, maxWaitMs, signal);
    for (const change of changes) {
      const rows = this.#map(change);
      const held: HeldChange = { change, unacknowledged: rows.length };
      this.#changes.push(held);
      for (const row of rows) {
        this.#rows.push(row);
        this.#changeOf.set(row.position, held);
      }
    }
    // Changes that map to nothing are done as soon as every earlier change is.
    if (changes.length > 0) await this.#acknowledgePrefix();
  }

  /** Acknowledges the source up to the last change whose events, and all earlier changes' events, are done. */
  async #acknowledgePrefix(): Promise<void> {
    let last: HeldChange | undefined;
    while (this.#changes.length > 0 && this.#changes[0]!.unacknowledged === 0) last = this.#changes.shift();
    if (last !== undefined) await this.#o.source.acknowledge(last.change.position);
  }

  #map(change: RowChange): OutboxRow[] {
    const where = `${change.operation} on ${change.schema}.${change.table} at ${change.position} (transaction ${change.transactionId})`;
    if (
      !Number.isSafeInteger(change.sequence) ||
      change.sequence < 1 ||
      !Number.isSafeInteger(change.index)
    ) {
      throw new SluiceError(
        'SLUICE_CHANGE_SEQUENCE_INVALID',
        `${this.#o.source.name} gave the ${where} the sequence ${change.sequence} and index ${change.index}; a change source's sequences must be positive safe integers`,
      );
    }
    let events: ReturnType<ChangeMapping>;
    try {
      events = this.#o.map(change);
    } catch (cause) {
      throw mappingFailed(where, errorMessage(cause), cause);
    }
    if (events.length > EVENTS_PER_CHANGE) {
      throw mappingFailed(
        where,
        `it mapped to ${events.length} events; at most ${EVENTS_PER_CHANGE} are allowed`,
      );
    }
    const time = new Date(change.commitTime).toISOString();
    const declaring = this.#o.map.tables !== undefined;
    const declared = declaredContracts(this.#o.map, change.schema, change.table);
    const table = `${change.schema}.${change.table}`;
    for (const { contract } of events) {
      if (declaring && !declared?.includes(contract)) {
        throw mappingFailed(
          where,
          `it mapped to ${contract.type} v${contract.version}, which the mapping's declared tables do not list for ${table}: add it to defineChangeMapping's tables`,
        );
      }
      // A contract that forbids backfills never receives the current state of a table as events.
      if (change.operation === 'snapshot' && contract.backfill === false)
        throw snapshotForbidden(where, contract);
    }
    return events.map(({ contract, data }, index) => {
      let checked: ReturnType<typeof checkEvent>;
      try {
        checked = checkEvent(contract, data, 'append');
      } catch (cause) {
        throw mappingFailed(where, errorMessage(cause), cause);
      }
      warnDeprecatedAppend(contract, this.#o.logger ?? silentLogger, change.commitTime);
      const id = changeEventId(this.#o.source.name, change.sequence, change.index, index);
      const value = encodeEnvelope({
        specversion: '1.0',
        id,
        source: this.#o.eventSource,
        type: contract.type,
        time,
        subject: checked.key,
        datacontenttype: 'application/json',
        dataschema: contract.dataschema,
        partitionkey: checked.key,
        sluiceseq: change.sequence,
        sluiceseqkind: 'position',
        data: checked.data,
      });
      return { position: this.#nextPosition++, id, topic: contract.topic.name, key: checked.key, value };
    });
  }
}

function mappingFailed(where: string, reason: string, cause?: unknown): SluiceError {
  return new SluiceError(
    'SLUICE_CHANGE_MAPPING_FAILED',
    `mapping the ${where} failed: ${reason}. The relay stops here rather than skip the change: fix the mapping (or the contract) and restart it`,
    cause === undefined ? {} : { cause },
  );
}

/**
 * The id of the `event`-th event of a change: a UUID (version 8, RFC 9562) hashed from the source's name, the
 * change's transaction (`sequence`) and its place in it (`index`), so a change read again after a restart
 * yields the same ids.
 */
export function changeEventId(sourceName: string, sequence: number, index: number, event: number): string {
  const b = createHash('sha256')
    .update(`${sourceName}\u0000${sequence}\u0000${index}\u0000${event}`)
    .digest();
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.subarray(0, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The relay's view of a change source: `createRelay({ outbox: createChangeOutbox({ source, map, eventSource }), ... })`. */
export function createChangeOutbox(options: ChangeOutboxOptions): ChangeOutbox {
  return new ChangeOutbox(options);
}
