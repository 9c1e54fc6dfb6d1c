import {
  type EventContext,
  type EventContract,
  type EventInput,
  encodeEnvelope,
  InvalidOptionError,
  MigrationRequiredError,
  type OutboxStats,
  type OutboxStore,
  SluiceError,
  type VersionedEvents,
} from '@sluice/core';
import {
  chainOf,
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
  waitForWake,
  warnDeprecatedAppend,
} from '@sluice/core/adapter';
import { isMissingRelation, toSluiceError } from '../errors.js';
import { quoteIdentifier } from '../identifier.js';
import { assertMigrated, migrate, resolveDatabase } from '../migrations/migrate.js';
import {
  inReadCommitted,
  isMysqlPool,
  type MysqlPool,
  queryRows,
  type SqlExecutor,
} from '../mysql-client.js';
import {
  type MysqlOutboxOptions,
  type ResolvedMysqlOutboxOptions,
  resolveMysqlOutboxOptions,
} from './mysql-outbox-options.js';
import { OutboxReader } from './outbox-reader.js';
import { PartitionLease } from './partition-lease.js';

/** What `append` wrote. */
export interface AppendResult {
  readonly id: string;
  readonly key: string;
  readonly sequence: number;
}

interface AckRow {
  source: string;
  topic: string;
  key: string;
  sequence: number | string;
}

/**
 * The transactional outbox in MySQL or MariaDB. `append` writes an event inside the caller's transaction through
 * a {@link SqlExecutor} (`fromMysql(conn)`); the relay reads committed rows through the `OutboxStore` methods,
 * on the pool given here.
 *
 * Reads never skip a transaction that commits late and keep each key's order: see {@link OutboxReader}.
 * Create it with {@link createMysqlOutbox}, which checks (or applies) the migrations.
 */
export class MysqlOutbox implements OutboxStore {
  readonly name: string;
  readonly database: string;
  readonly #pool: MysqlPool;
  readonly #o: ResolvedMysqlOutboxOptions;
  readonly #table: string;
  readonly #sequenceSql: string;
  readonly #insertSql: string;
  readonly #ackSelectSql: string;
  readonly #ackDeliveredSql: string;
  readonly #ackDeleteSql: string;
  readonly #statsSql: string;
  readonly #listSql: string;
  readonly #chainsSql: string;
  readonly #reader: OutboxReader;
  readonly #lease: PartitionLease;
  readonly #waiting = new Set<() => void>();
  #closed = false;

  /** Use {@link createMysqlOutbox}: it resolves the database and checks the migrations first. */
  constructor(pool: MysqlPool, database: string, options: ResolvedMysqlOutboxOptions) {
    this.#pool = pool;
    this.#o = options;
    this.database = database;
    const d = quoteIdentifier(database);
    this.#table = `${database}.sluice_outbox`;
    this.name = `mysql:${database}`;
    this.#sequenceSql = `INSERT INTO ${d}.sluice_outbox_sequence (source, topic, \`key\`, last)
VALUES (?, ?, ?, LAST_INSERT_ID(1)) ON DUPLICATE KEY UPDATE last = LAST_INSERT_ID(last + 1)`;
    this.#insertSql = `INSERT INTO ${d}.sluice_outbox (id, source, topic, \`key\`, type, sequence, key_hash, value)
VALUES (?, ?, ?, ?, ?, ?, CRC32(?), ?)`;
    this.#reader = new OutboxReader(pool, d, `outbox table ${this.#table}`);
    this.#lease = new PartitionLease(pool, d, `${database}.sluice_relay_partition`);
    // The positions as a JSON array joined to the primary key (eq_ref): with `position IN (...)` MariaDB scans
    // the small outbox table, and a DELETE that scans waits on every writer's uncommitted row in turn (4 s under
    // 8 writers in the two-relay test: the lease expired meanwhile).
    const ids = `JSON_TABLE(?, '$[*]' COLUMNS (p BIGINT UNSIGNED PATH '$')) AS ids STRAIGHT_JOIN ${d}.sluice_outbox AS o ON o.position = ids.p`;
    this.#ackSelectSql = `SELECT o.source, o.topic, o.\`key\` AS \`key\`, o.sequence FROM ${ids}`;
    this.#ackDeliveredSql = `INSERT INTO ${d}.sluice_outbox_delivered (source, topic, \`key\`, sequence) VALUES ?
ON DUPLICATE KEY UPDATE sequence = GREATEST(sequence, VALUES(sequence))`;
    this.#ackDeleteSql = `DELETE o FROM ${ids}`;
    this.#listSql = `SELECT position, id, source, \`key\` AS \`key\`, sequence FROM ${d}.sluice_outbox
WHERE position > ? AND topic = ? AND value IS NOT NULL ORDER BY position LIMIT ?`;
    this.#chainsSql = `SELECT source, \`key\` AS \`key\`, last AS appended FROM ${d}.sluice_outbox_sequence
WHERE topic = ? AND (source, \`key\`) > (?, ?) ORDER BY source, \`key\` LIMIT ?`;
    this.#statsSql = `SELECT p.\`partition\` AS \`partition\`,
  CASE WHEN p.expires_at > NOW(3) THEN p.owner END AS owner,
  CASE WHEN p.expires_at > NOW(3) THEN TIMESTAMPDIFF(MICROSECOND, NOW(3), p.expires_at) / 1000 END AS expires_in,
  COALESCE(q.pending, 0) AS pending,
  TIMESTAMPDIFF(MICROSECOND, q.oldest, NOW(6)) / 1000 AS oldest
FROM ${d}.sluice_relay_partition p
LEFT JOIN (
  SELECT o.key_hash % c.n AS part, COUNT(*) AS pending, MIN(o.created_at) AS oldest
  FROM ${d}.sluice_outbox o, (SELECT COUNT(*) AS n FROM ${d}.sluice_relay_partition) c
  GROUP BY part
) q ON q.part = p.\`partition\`
ORDER BY p.\`partition\``;
  }

  /**
   * Validates `data` against `contract` and writes the event into the outbox as part of the caller's
   * transaction on `tx` (`fromMysql(conn)` for a mysql2 connection after `beginTransaction()`), in two
   * statements: the key's next sequence (an upsert of its counter row, which waits for an uncommitted append of
   * the same key, so sequences are gap-free and commit in order per key), then the row. If the transaction rolls
   * back, the event and its sequence number are gone with it.
   *
   * Always append inside a transaction: an executor on a pool is refused (`SLUICE_APPEND_OUTSIDE_TRANSACTION`,
   * nothing written), and on a single connection in autocommit mode the two statements commit separately, so a
   * crash between them would leave a sequence gap that holds the key back at the relay.
   *
   * Throws `ContractViolationError` (nothing written) if the data violates the contract, and
   * `MigrationRequiredError` if the outbox tables are missing. Other driver errors (a deadlock, a lock wait
   * timeout) are rethrown unchanged, so the caller's transaction retry logic recognises them.
   */
  async append<C extends EventContract>(
    tx: SqlExecutor,
    contract: C,
    data: EventInput<C>,
    context?: EventContext,
  ): Promise<AppendResult> {
    const event = prepareEvent(contract, data, context);
    warnDeprecatedAppend(contract, this.#o.logger);
    return this.#insert(tx, event, context);
  }

  /**
   * Publishes one business fact as several versions of its type during a migration, each validated against its
   * own contract and written as its own event (same key, oldest version first) in the caller's transaction:
   * see `SqliteOutbox.appendVersions` (same rules, same errors) and "Versions in flight" in docs/contracts.md.
   */
  async appendVersions<const Cs extends readonly EventContract[]>(
    tx: SqlExecutor,
    events: VersionedEvents<Cs>,
    context?: EventContext,
  ): Promise<AppendResult[]> {
    const prepared = prepareVersions(events, context);
    for (const e of events) warnDeprecatedAppend(e.contract, this.#o.logger);
    const results: AppendResult[] = [];
    for (const event of prepared) results.push(await this.#insert(tx, event, context));
    return results;
  }

  async #insert(tx: SqlExecutor, event: PreparedEvent, context?: EventContext): Promise<AppendResult> {
    if (tx.pooled) {
      throw new SluiceError(
        'SLUICE_APPEND_OUTSIDE_TRANSACTION',
        `outbox.append in ${this.#table} got an executor on a pool: its two statements could run on two connections and commit separately, leaving a sequence gap. Nothing was written; pass fromMysql(conn) for the connection running your transaction, after beginTransaction()`,
      );
    }
    try {
      const { insertId: sequence } = await tx.write(this.#sequenceSql, [
        this.#o.source,
        event.topic,
        event.key,
      ]);
      const value = encodeEnvelope(envelopeOf(event, this.#o.source, sequence, context));
      await tx.write(this.#insertSql, [
        event.id,
        this.#o.source,
        event.topic,
        event.key,
        event.type,
        sequence,
        event.key,
        value,
      ]);
      return { id: event.id, key: event.key, sequence };
    } catch (error) {
      if (isMissingRelation(error)) {
        throw new MigrationRequiredError(`outbox table ${this.#table} is missing`, { cause: error });
      }
      throw error;
    }
  }

  /**
   * Up to `limit` committed rows not yet returned in this chain of cursors, each key's rows in sequence order
   * and only after its earlier ones; a row that commits late is found by the next read. The cursor is kept in
   * this store's memory; an unknown one (or `undefined`) starts again from every pending row. Throws
   * `MigrationRequiredError` if the table is missing, and a retryable `SLUICE_DATABASE_UNAVAILABLE` when MySQL
   * cannot be reached. See {@link OutboxReader}.
   */
  readPending(
    cursor: string | undefined,
    limit: number,
    partitions?: readonly number[],
  ): Promise<OutboxBatch> {
    return this.#reader.read(cursor, limit, partitions);
  }

  /**
   * In one READ COMMITTED transaction: reads the rows' keys and sequences, records each key's highest
   * acknowledged sequence in `sluice_outbox_delivered` (never lowering it) and deletes the rows, by primary key
   * only, so it never waits on an appending transaction. Idempotent: rows already deleted are ignored.
   */
  async acknowledge(rows: readonly OutboxRow[]): Promise<void> {
    if (rows.length === 0) return;
    const positions = JSON.stringify(rows.map((r) => r.position));
    let last: AckRow[];
    try {
      last = await inReadCommitted(this.#pool, async (conn) => {
        const found = await queryRows<AckRow>(conn, this.#ackSelectSql, [positions]);
        const highest = new Map<string, AckRow>();
        for (const r of found) {
          const chain = chainOf(r.source, r.topic, r.key);
          const seen = highest.get(chain);
          if (seen === undefined || Number(seen.sequence) < Number(r.sequence)) highest.set(chain, r);
        }
        const keys = [...highest.entries()]
          .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
          .map(([, r]) => r);
        if (keys.length > 0) {
          await conn.query(this.#ackDeliveredSql, [keys.map((r) => [r.source, r.topic, r.key, r.sequence])]);
          await conn.query(this.#ackDeleteSql, [positions]);
        }
        return keys;
      });
    } catch (error) {
      throw this.#error(error, 'acknowledging delivered rows');
    }
    this.#reader.forgetAcknowledged(
      last.map((a) => ({ chain: chainOf(a.source, a.topic, a.key), sequence: Number(a.sequence) })),
    );
  }

  /**
   * MySQL has no LISTEN/NOTIFY: resolves after `pollIntervalMs` (or `timeoutMs` if shorter), or at once on abort
   * or `close()`, and the relay reads again. A commit is therefore seen within one poll interval.
   */
  waitForAppend(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#closed || signal?.aborted) return Promise.resolve();
    return waitForWake(this.#waiting, Math.max(0, Math.min(timeoutMs, this.#o.pollIntervalMs)), signal);
  }

  /**
   * Takes or renews `owner`'s even share of the relay partitions (16 key-hash partitions, leases in
   * `sluice_relay_partition`, database time): see {@link PartitionLease}.
   */
  acquireLease(owner: string, ttlMs: number): Promise<RelayLease> {
    return this.#lease.acquire(owner, ttlMs);
  }

  /** Gives up `owner`'s partitions and membership: the other relays take them at their next renewal. */
  releaseLease(owner: string): Promise<void> {
    return this.#lease.release(owner);
  }

  /**
   * The pending rows of `topic`, in position order. Delivered rows are deleted on acknowledgement, so none is
   * ever listed as delivered.
   */
  async listRows(topic: string, cursor: string | undefined, limit: number): Promise<OutboxListing> {
    let found: {
      position: number | string;
      id: string;
      source: string;
      key: string;
      sequence: number | string;
    }[];
    try {
      found = await queryRows<(typeof found)[number]>(this.#pool, this.#listSql, [
        cursor ?? '0',
        topic,
        limit,
      ]);
    } catch (error) {
      throw this.#error(error, 'listing outbox rows');
    }
    const rows = found.map(
      (r): ListedOutboxRow => ({
        position: Number(r.position),
        id: r.id,
        source: r.source,
        key: r.key,
        sequence: Number(r.sequence),
        delivered: false,
      }),
    );
    return { rows, cursor: rows.length < limit ? undefined : String(found[found.length - 1]!.position) };
  }

  /** The chains of `topic` from `sluice_outbox_sequence`, ordered by source and key. */
  async listChains(topic: string, cursor: string | undefined, limit: number): Promise<OutboxChainListing> {
    const [source, key] = cursor === undefined ? ['', ''] : (JSON.parse(cursor) as [string, string]);
    let found: { source: string; key: string; appended: number | string }[];
    try {
      found = await queryRows<(typeof found)[number]>(this.#pool, this.#chainsSql, [
        topic,
        source,
        key,
        limit,
      ]);
    } catch (error) {
      throw this.#error(error, 'listing outbox chains');
    }
    const chains = found.map(
      (c): OutboxChain => ({ source: c.source, key: c.key, appended: Number(c.appended) }),
    );
    const last = chains[chains.length - 1];
    return {
      chains,
      cursor: chains.length < limit || !last ? undefined : JSON.stringify([last.source, last.key]),
    };
  }

  /**
   * Committed rows not yet acknowledged and the age of the oldest (database clock), in total and per relay
   * partition with its live owner. Counts every pending row: meant for monitoring, not for a hot loop.
   */
  async stats(): Promise<OutboxStats> {
    let rows: {
      partition: number;
      owner: string | null;
      expires_in: number | string | null;
      pending: number | string;
      oldest: number | string | null;
    }[];
    try {
      rows = await inReadCommitted(this.#pool, (conn) => queryRows(conn, this.#statsSql), { readOnly: true });
    } catch (error) {
      throw this.#error(error, 'reading outbox stats');
    }
    const age = (ms: number | string | null) => (ms === null ? null : Math.max(0, Math.round(Number(ms))));
    const partitions = rows.map((r) => ({
      partition: Number(r.partition),
      owner: r.owner,
      leaseExpiresInMs: age(r.expires_in),
      pending: Number(r.pending),
      oldestPendingAgeMs: age(r.oldest),
    }));
    const ages = partitions.flatMap((p) => (p.oldestPendingAgeMs === null ? [] : [p.oldestPendingAgeMs]));
    return {
      pending: partitions.reduce((n, p) => n + p.pending, 0),
      oldestPendingAgeMs: ages.length === 0 ? null : Math.max(...ages),
      partitions,
    };
  }

  /** Wakes every waiter; the pool belongs to the caller. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const wake of [...this.#waiting]) wake();
  }

  #error(error: unknown, doing: string) {
    return toSluiceError(error, `${doing} in ${this.#table}`, `outbox table ${this.#table} is missing`);
  }
}

/**
 * Opens the outbox on `pool` (a mysql2 promise `Pool`):
 * `await createMysqlOutbox(pool, { source: 'urn:service:orders' })`. Throws `MigrationRequiredError` unless the
 * database is migrated, or migrates it with `migrate: true`.
 */
export async function createMysqlOutbox(pool: MysqlPool, options: MysqlOutboxOptions): Promise<MysqlOutbox> {
  const resolved = resolveMysqlOutboxOptions(options);
  if (!isMysqlPool(pool)) {
    throw new InvalidOptionError(
      'mysql outbox',
      'pool',
      'must be a mysql2/promise Pool (with query() and getConnection())',
    );
  }
  const database = await resolveDatabase(pool, resolved.database, 'mysql outbox');
  if (resolved.migrate) await migrate(pool, { database });
  else await assertMigrated(pool, database, `outbox table ${database}.sluice_outbox`);
  return new MysqlOutbox(pool, database, resolved);
}
