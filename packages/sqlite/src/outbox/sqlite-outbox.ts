import { resolve } from 'node:path';
import {
  decodeEnvelope,
  type EventContext,
  type EventContract,
  type EventInput,
  encodeEnvelope,
  MigrationRequiredError,
  type OutboxStats,
  type OutboxStore,
  SluiceError,
  type VersionedEvents,
} from '@sluice/core';
import {
  envelopeOf,
  type ListedOutboxRow,
  type OutboxBatch,
  type OutboxChain,
  type OutboxChainListing,
  type OutboxListing,
  type OutboxRow,
  type PreparedEvent,
  prepareEvent,
  prepareVersions,
  type RelayLease,
  warnDeprecatedAppend,
} from '@sluice/core/adapter';
import type { Statement, Transaction } from 'better-sqlite3';
import { CommitWakeup } from '../commit-wakeup.js';
import { isSqliteBusy, toSluiceError } from '../errors.js';
import { assertMigrated, migrate } from '../migrations/migrate.js';
import type { SqliteDatabase } from '../open-database.js';
import { signalAppend } from './append-signal.js';
import {
  type ResolvedSqliteOutboxOptions,
  resolveSqliteOutboxOptions,
  type SqliteOutboxOptions,
} from './sqlite-outbox-options.js';

interface AppendStatements {
  nextSequence: { get(source: string, topic: string, key: string): unknown };
  insert: {
    run(id: string, topic: string, key: string, type: string, value: string, createdAt: number): unknown;
  };
}

const appendStatements = new WeakMap<SqliteDatabase, AppendStatements>();

/** What `append` wrote. */
export interface AppendResult {
  readonly id: string;
  readonly key: string;
  readonly sequence: number;
}

/**
 * The transactional outbox in a SQLite database (better-sqlite3). `append` writes an event row inside the
 * caller's transaction; the relay reads committed rows through the `OutboxStore` methods, on this or another
 * connection to the same file.
 */
export class SqliteOutbox implements OutboxStore {
  readonly name: string;
  readonly #db: SqliteDatabase;
  readonly #o: ResolvedSqliteOutboxOptions;
  #read: Statement<unknown[]> | undefined;
  #list: Statement<unknown[]> | undefined;
  #chains: Statement<unknown[]> | undefined;
  #wakeup: CommitWakeup | undefined;
  #ack: Transaction<(positions: string, now: number) => void> | undefined;

  constructor(db: SqliteDatabase, options: SqliteOutboxOptions) {
    this.#o = resolveSqliteOutboxOptions(options);
    this.#db = db;
    this.name = `sqlite:${db.name}`;
    if (this.#o.migrate) migrate(db);
    else assertMigrated(db, 'outbox table sluice_outbox');
  }

  /**
   * Validates `data` against `contract` and writes the event into the outbox as part of the caller's current
   * transaction on `tx` (a better-sqlite3 connection inside `db.transaction(...)`). If the transaction rolls back,
   * the event is gone with it; once it commits, the relay will deliver it. Outside a transaction the append runs
   * in a transaction of its own.
   *
   * Throws `ContractViolationError` (nothing written) if the data violates the contract.
   */
  append<C extends EventContract>(
    tx: SqliteDatabase,
    contract: C,
    data: EventInput<C>,
    context?: EventContext,
  ): AppendResult {
    const event = prepareEvent(contract, data, context);
    warnDeprecatedAppend(contract, this.#o.logger);
    return this.#write(tx, [event], context)[0]!;
  }

  /**
   * Publishes one business fact as several versions of its type, during a migration from one version to the
   * next: `appendVersions(tx, [{ contract: V1, data: v1 }, { contract: V2, data: v2 }])`. Each is validated
   * against its own contract and written as its own event (own id, same key, oldest version first) in the
   * caller's transaction, like `append`. The envelopes share `sluicefact` and list each other's dataschemas, so a
   * consumer applies the fact once: as the newest of these versions it handles (directly or by upcasters),
   * skipping the others; consumers of one version each get theirs.
   *
   * Throws `InvalidOptionError` (fewer than two events, several types, a version twice, keys differing) or
   * `ContractViolationError`, with nothing written.
   */
  appendVersions<const Cs extends readonly EventContract[]>(
    tx: SqliteDatabase,
    events: VersionedEvents<Cs>,
    context?: EventContext,
  ): AppendResult[] {
    const prepared = prepareVersions(events, context);
    for (const e of events) warnDeprecatedAppend(e.contract, this.#o.logger);
    return this.#write(tx, prepared, context);
  }

  #write(tx: SqliteDatabase, events: readonly PreparedEvent[], context?: EventContext): AppendResult[] {
    const run = (): AppendResult[] => {
      const s = statements(tx);
      return events.map((event) => {
        const sequence = s.nextSequence.get(this.#o.source, event.topic, event.key) as number;
        const value = encodeEnvelope(envelopeOf(event, this.#o.source, sequence, context));
        s.insert.run(event.id, event.topic, event.key, event.type, value, Date.now());
        return { id: event.id, key: event.key, sequence };
      });
    };
    const result = tx.inTransaction ? run() : tx.transaction(run)();
    signalAppend(tx);
    return result;
  }

  async readPending(cursor: string | undefined, limit: number): Promise<OutboxBatch> {
    const rows = this.#readRows(cursor === undefined ? 0 : Number(cursor), limit);
    return { rows, cursor: rows.length === 0 ? cursor : String(rows[rows.length - 1]!.position) };
  }

  #readRows(after: number, limit: number): OutboxRow[] {
    // On a connection the application shares, an open transaction's rows are visible to it but not committed.
    if (this.#db.inTransaction) return [];
    this.#read ??= this.#db.prepare(
      'SELECT position, id, topic, key, value FROM sluice_outbox WHERE position > ? AND delivered_at IS NULL ORDER BY position LIMIT ?',
    );
    return this.#read.all(after, limit) as OutboxRow[];
  }

  async acknowledge(rows: readonly OutboxRow[]): Promise<void> {
    if (rows.length === 0) return;
    if (!this.#ack) {
      // Delete delivered rows, but keep the newest row of the table (marked delivered) so that the next
      // append's position (max + 1) is never one the relay has already passed.
      const deleteDelivered = this.#db.prepare(
        `DELETE FROM sluice_outbox
         WHERE position IN (SELECT value FROM json_each(?)) AND position < (SELECT max(position) FROM sluice_outbox)`,
      );
      const deleteKept = this.#db.prepare(
        `DELETE FROM sluice_outbox
         WHERE delivered_at IS NOT NULL AND position < (SELECT max(position) FROM sluice_outbox)`,
      );
      const markKept = this.#db.prepare(
        'UPDATE sluice_outbox SET delivered_at = ? WHERE position IN (SELECT value FROM json_each(?))',
      );
      this.#ack = this.#db.transaction((positions: string, now: number) => {
        deleteDelivered.run(positions);
        deleteKept.run();
        markKept.run(now, positions);
      });
    }
    // Never wait for the application's write lock: the relay acknowledges again shortly, while the
    // application's transactions go on undisturbed.
    const timeout = this.#db.pragma('busy_timeout', { simple: true }) as number;
    this.#db.pragma('busy_timeout = 0');
    try {
      this.#ack.immediate(JSON.stringify(rows.map((r) => r.position)), Date.now());
    } catch (cause) {
      if (isSqliteBusy(cause)) {
        throw toSluiceError(cause, 'acknowledging delivered rows', this.#db.name, 'acknowledge again later');
      }
      throw cause;
    } finally {
      this.#db.pragma(`busy_timeout = ${timeout}`);
    }
  }

  waitForAppend(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (!this.#wakeup) {
      const dataVersion = this.#db.prepare('PRAGMA data_version').pluck();
      this.#wakeup = new CommitWakeup(
        resolve(this.#db.name),
        () => dataVersion.get() as number,
        this.#o.pollIntervalMs,
      );
    }
    return this.#wakeup.wait(Date.now() + timeoutMs, signal);
  }

  /** One lease for the whole outbox: a single partition, since one SQLite file has one writer anyway. */
  async acquireLease(owner: string, ttlMs: number): Promise<RelayLease> {
    const now = Date.now();
    const row = this.#db
      .prepare(
        `INSERT INTO sluice_relay_lease (name, owner, expires_at) VALUES ('outbox', ?, ?)
         ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
         WHERE sluice_relay_lease.owner = excluded.owner OR sluice_relay_lease.expires_at < ?
         RETURNING owner`,
      )
      .get(owner, now + ttlMs, now);
    return { partitions: row === undefined ? [] : [0], partitionCount: 1 };
  }

  async releaseLease(owner: string): Promise<void> {
    this.#db.prepare("DELETE FROM sluice_relay_lease WHERE name = 'outbox' AND owner = ?").run(owner);
  }

  async stats(): Promise<OutboxStats> {
    if (this.#db.inTransaction) {
      throw new SluiceError(
        'SLUICE_CONNECTION_IN_TRANSACTION',
        `the connection to ${this.#db.name} is inside a transaction; read stats on another connection`,
      );
    }
    const row = this.#db
      .prepare(
        'SELECT count(*) AS n, min(created_at) AS oldest FROM sluice_outbox WHERE delivered_at IS NULL',
      )
      .get() as {
      n: number;
      oldest: number | null;
    };
    const lease = this.#db
      .prepare("SELECT owner, expires_at FROM sluice_relay_lease WHERE name = 'outbox'")
      .get() as { owner: string; expires_at: number } | undefined;
    const now = Date.now();
    const live = lease !== undefined && lease.expires_at > now ? lease : undefined;
    const oldestPendingAgeMs = row.oldest === null ? null : Math.max(0, now - row.oldest);
    return {
      pending: row.n,
      oldestPendingAgeMs,
      partitions: [
        {
          partition: 0,
          owner: live?.owner ?? null,
          leaseExpiresInMs: live ? live.expires_at - now : null,
          pending: row.n,
          oldestPendingAgeMs,
        },
      ],
    };
  }

  /**
   * The rows of `topic` still in the table, in position order: pending ones, and the one delivered row kept so
   * positions are never reused (every other delivered row is deleted on acknowledgement). `source` and
   * `sequence` come from the stored envelope.
   */
  async listRows(topic: string, cursor: string | undefined, limit: number): Promise<OutboxListing> {
    try {
      this.#list ??= this.#db.prepare(
        `SELECT position, id, key, value, delivered_at IS NOT NULL AS delivered FROM sluice_outbox
         WHERE position > ? AND topic = ? AND value IS NOT NULL ORDER BY position LIMIT ?`,
      );
    } catch (cause) {
      if (String(cause).includes('no such table')) {
        throw new MigrationRequiredError(`outbox table sluice_outbox is missing in ${this.#db.name}`, {
          cause,
        });
      }
      throw cause;
    }
    const found = this.#list.all(cursor === undefined ? 0 : Number(cursor), topic, limit) as {
      position: number;
      id: string;
      key: string;
      value: string;
      delivered: number;
    }[];
    const rows = found.map((r): ListedOutboxRow => {
      const envelope = decodeEnvelope(r.value);
      return {
        position: r.position,
        id: r.id,
        source: envelope.source,
        key: r.key,
        sequence: envelope.sluiceseq,
        delivered: r.delivered === 1,
      };
    });
    return { rows, cursor: rows.length < limit ? undefined : String(rows[rows.length - 1]!.position) };
  }

  /** The chains of `topic` from `sluice_outbox_sequence`, ordered by source and key. */
  async listChains(topic: string, cursor: string | undefined, limit: number): Promise<OutboxChainListing> {
    try {
      this.#chains ??= this.#db.prepare(
        `SELECT source, key, last AS appended FROM sluice_outbox_sequence
         WHERE topic = ? AND (source, key) > (?, ?) ORDER BY source, key LIMIT ?`,
      );
    } catch (cause) {
      if (String(cause).includes('no such table')) {
        throw new MigrationRequiredError(
          `outbox table sluice_outbox_sequence is missing in ${this.#db.name}`,
          {
            cause,
          },
        );
      }
      throw cause;
    }
    const [source, key] = cursor === undefined ? ['', ''] : (JSON.parse(cursor) as [string, string]);
    const chains = this.#chains.all(topic, source, key, limit) as OutboxChain[];
    const last = chains[chains.length - 1];
    return {
      chains,
      cursor: chains.length < limit || !last ? undefined : JSON.stringify([last.source, last.key]),
    };
  }

  async close(): Promise<void> {
    // The connection belongs to the caller; only stop waiting on it.
    this.#wakeup?.close();
    this.#wakeup = undefined;
  }
}

function statements(db: SqliteDatabase): AppendStatements {
  let s = appendStatements.get(db);
  if (s) return s;
  try {
    s = {
      nextSequence: db
        .prepare(
          `INSERT INTO sluice_outbox_sequence (source, topic, key, last) VALUES (?, ?, ?, 1)
           ON CONFLICT (source, topic, key) DO UPDATE SET last = last + 1 RETURNING last`,
        )
        .pluck(),
      insert: db.prepare(
        'INSERT INTO sluice_outbox (id, topic, key, type, value, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
    };
  } catch (cause) {
    if (String(cause).includes('no such table')) {
      throw new MigrationRequiredError(`outbox table sluice_outbox is missing in ${db.name}`, { cause });
    }
    throw toSluiceError(cause, 'preparing the outbox statements', db.name);
  }
  appendStatements.set(db, s);
  return s;
}

/** Opens the outbox on `db`: `createSqliteOutbox(db, { source: 'urn:service:enrollments' })`. */
export function createSqliteOutbox(db: SqliteDatabase, options: SqliteOutboxOptions): SqliteOutbox {
  return new SqliteOutbox(db, options);
}
