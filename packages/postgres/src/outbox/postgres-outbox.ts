import {
  type EventContext,
  type EventContract,
  type EventInput,
  InvalidOptionError,
  MigrationRequiredError,
  type OutboxStats,
  type OutboxStore,
  type VersionedEvents,
} from '@sluice/core';
import {
  chainOf,
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
import { isMissingRelation, toSluiceError } from '../errors.js';
import { quoteIdentifier } from '../identifier.js';
import { assertMigrated, migrate } from '../migrations/migrate.js';
import { fromPg, isPgPool, type PgPool, queryPrepared, type SqlExecutor } from '../pg-client.js';
import { AppendListener } from './append-listener.js';
import { appendSql, splitEnvelope } from './append-statement.js';
import { type HousekeepingReport, OutboxHousekeeper } from './outbox-housekeeper.js';
import { OutboxReader } from './outbox-reader.js';
import { PartitionLease } from './partition-lease.js';
import { partitionOfSql } from './partition-sql.js';
import {
  type PostgresOutboxOptions,
  type ResolvedPostgresOutboxOptions,
  resolvePostgresOutboxOptions,
} from './postgres-outbox-options.js';

/** What `append` wrote. */
export interface AppendResult {
  readonly id: string;
  readonly key: string;
  readonly sequence: number;
}

/**
 * The transactional outbox in PostgreSQL. `append` writes an event inside the caller's transaction through a
 * {@link SqlExecutor}; the relay reads committed rows through the `OutboxStore` methods, on the pool given here.
 *
 * Reads never skip a transaction that commits late and keep each key's order: see {@link OutboxReader}.
 * Create it with {@link createPostgresOutbox}, which checks (or applies) the migrations.
 */
export class PostgresOutbox implements OutboxStore {
  readonly name: string;
  readonly #pool: PgPool;
  readonly #o: ResolvedPostgresOutboxOptions;
  readonly #table: string;
  readonly #appendSql: string;
  readonly #ackSql: string;
  readonly #statsSql: string;
  readonly #listSql: string;
  readonly #chainsSql: string;
  readonly #reader: OutboxReader;
  readonly #listener: AppendListener;
  readonly #lease: PartitionLease;
  readonly #housekeeper: OutboxHousekeeper;

  /** Use {@link createPostgresOutbox}: it checks the migrations first. */
  constructor(pool: PgPool, options: ResolvedPostgresOutboxOptions) {
    this.#pool = pool;
    this.#o = options;
    const s = quoteIdentifier(options.schema);
    this.#table = `${options.schema}.outbox`;
    this.name = `postgres:${options.schema}`;
    this.#appendSql = appendSql(s);
    this.#reader = new OutboxReader(pool, s, `outbox table ${this.#table}`);
    this.#listener = new AppendListener(pool, s, options.channel, options.pollIntervalMs);
    this.#lease = new PartitionLease(pool, s, `${options.schema}.relay_partition`);
    this.#housekeeper = new OutboxHousekeeper(pool, s, {
      keepDeliveredMs: options.keepDeliveredMs,
      intervalMs: options.housekeepingIntervalMs,
      batchSize: options.housekeepingBatchSize,
      vacuumEveryRows: options.vacuumEveryRows,
    });
    const archive =
      options.keepDeliveredMs > 0
        ? `, archived AS (
  INSERT INTO ${s}.outbox_archive (position, id, source, topic, key, type, sequence, value, created_at)
  SELECT position, id, source, topic, key, type, sequence, value, created_at FROM gone
  ON CONFLICT (position) DO NOTHING
)`
        : '';
    this.#ackSql = `WITH gone AS (
  DELETE FROM ${s}.outbox WHERE position = ANY ($1::bigint[])
  RETURNING position, id, source, topic, key, type, sequence, value, created_at
)${archive}, last AS (
  SELECT source, topic, key, max(sequence) AS sequence FROM gone GROUP BY source, topic, key
), saved AS (
  INSERT INTO ${s}.outbox_delivered AS d (source, topic, key, sequence)
  SELECT source, topic, key, sequence FROM last ORDER BY source, topic, key
  ON CONFLICT (source, topic, key) DO UPDATE SET sequence = greatest(d.sequence, excluded.sequence)
)
SELECT source, topic, key, sequence::text AS sequence FROM last`;
    this.#listSql = `SELECT position::text AS position, id::text AS id, source, key, sequence::text AS sequence, delivered
FROM (
  (SELECT position, id, source, key, sequence, false AS delivered FROM ${s}.outbox
   WHERE position > $1 AND topic = $2 AND value IS NOT NULL ORDER BY position LIMIT $3)
  UNION ALL
  (SELECT position, id, source, key, sequence, true AS delivered FROM ${s}.outbox_archive
   WHERE position > $1 AND topic = $2 AND value IS NOT NULL ORDER BY position LIMIT $3)
) rows
ORDER BY position LIMIT $3`;
    this.#chainsSql = `SELECT source, key, last::text AS appended FROM ${s}.outbox_sequence
WHERE topic = $1 AND (source, key) > ($2, $3) ORDER BY source, key LIMIT $4`;
    this.#statsSql = `WITH parts AS MATERIALIZED (
  SELECT count(*)::int AS n FROM ${s}.relay_partition
), pending AS (
  SELECT ${partitionOfSql('o.key', 'parts.n')} AS partition, count(*)::int AS pending, min(o.created_at) AS oldest
  FROM ${s}.outbox o, parts
  GROUP BY 1
)
SELECT p.partition,
  CASE WHEN p.expires_at > now() THEN p.owner END AS owner,
  CASE WHEN p.expires_at > now()
    THEN (extract(epoch FROM p.expires_at - now()) * 1000)::double precision END AS expires_in,
  coalesce(q.pending, 0) AS pending,
  (extract(epoch FROM clock_timestamp() - q.oldest) * 1000)::double precision AS oldest
FROM ${s}.relay_partition p
LEFT JOIN pending q ON q.partition = p.partition
ORDER BY p.partition`;
  }

  /**
   * Validates `data` against `contract` and writes the event into the outbox as part of the caller's
   * transaction on `tx` (`fromPg(client)` for a `pg` client inside `BEGIN`), in one round trip: the key's next
   * sequence, the row, and a notification that wakes the relay once the transaction commits. If the
   * transaction rolls back, the event and its sequence number are gone with it. Through a pool (no
   * transaction), the statement commits on its own.
   *
   * Throws `ContractViolationError` (nothing written) if the data violates the contract, and
   * `MigrationRequiredError` if the outbox tables are missing. Other driver errors (a serialization failure,
   * a deadlock) are rethrown unchanged, so the caller's transaction retry logic recognises them; the
   * transaction is then aborted and must be rolled back.
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
    const { prefix, suffix } = splitEnvelope(event, this.#o.source, context);
    let rows: { sequence: string }[];
    try {
      rows = await tx.execute<{ sequence: string }>(this.#appendSql, [
        this.#o.source,
        event.topic,
        event.key,
        event.id,
        event.type,
        prefix,
        suffix,
        this.#o.channel,
      ]);
    } catch (error) {
      if (isMissingRelation(error)) {
        throw new MigrationRequiredError(`outbox table ${this.#table} is missing`, { cause: error });
      }
      throw error;
    }
    return { id: event.id, key: event.key, sequence: Number(rows[0]!.sequence) };
  }

  /**
   * Up to `limit` committed rows not yet returned in this chain of cursors: the rows of the transactions that
   * committed since the cursor's snapshot, in position order, each key's rows in sequence order and only after
   * its earlier ones. The cursor is kept in this store's memory; an unknown one (or `undefined`) starts again
   * from every pending row. Throws `MigrationRequiredError` if the table is missing, and a retryable
   * `SLUICE_DATABASE_UNAVAILABLE` when PostgreSQL cannot be reached.
   */
  readPending(
    cursor: string | undefined,
    limit: number,
    partitions?: readonly number[],
  ): Promise<OutboxBatch> {
    return this.#reader.read(cursor, limit, partitions);
  }

  /**
   * Deletes the rows and records each key's highest acknowledged sequence in `outbox_delivered`, in one
   * statement (one transaction). Idempotent: rows already deleted are ignored.
   */
  async acknowledge(rows: readonly OutboxRow[]): Promise<void> {
    if (rows.length === 0) return;
    let acknowledged: { source: string; topic: string; key: string; sequence: string }[];
    try {
      acknowledged = (
        await queryPrepared<{ source: string; topic: string; key: string; sequence: string }>(
          this.#pool,
          this.#ackSql,
          [rows.map((r) => String(r.position))],
        )
      ).rows;
    } catch (error) {
      throw this.#error(error, 'acknowledging delivered rows');
    }
    this.#reader.forgetAcknowledged(
      acknowledged.map((a) => ({ chain: chainOf(a.source, a.topic, a.key), sequence: Number(a.sequence) })),
    );
    this.#housekeeper.acknowledged(rows.length);
  }

  /**
   * Runs a housekeeping round now (normally the store runs one in the background every
   * `housekeepingIntervalMs` while the relay acknowledges rows): deletes archived events past `keepDeliveredMs`
   * in batches, and vacuums the outbox table if `vacuumEveryRows` were deleted since the last time.
   */
  housekeep(): Promise<HousekeepingReport> {
    return this.#housekeeper.run().catch((error: unknown) => {
      throw this.#error(error, 'housekeeping');
    });
  }

  /**
   * Resolves soon after an append commits (`LISTEN` on the channel, from a connection of the pool opened on the
   * first wait and kept until `close()`), after `timeoutMs`, or on abort. See {@link AppendListener}.
   */
  waitForAppend(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return this.#listener.wait(timeoutMs, signal);
  }

  /**
   * Takes or renews `owner`'s even share of the relay partitions (16 key-hash partitions, leases in
   * `relay_partition`, database time): see {@link PartitionLease}.
   */
  acquireLease(owner: string, ttlMs: number): Promise<RelayLease> {
    return this.#lease.acquire(owner, ttlMs);
  }

  /** Gives up `owner`'s partitions and membership: the other relays take them at their next renewal. */
  releaseLease(owner: string): Promise<void> {
    return this.#lease.release(owner);
  }

  /**
   * Committed rows not yet acknowledged and the age of the oldest (database clock), in total and per relay
   * partition with its live owner. Counts every pending row: meant for monitoring every few seconds, not for
   * a hot loop.
   */
  async stats(): Promise<OutboxStats> {
    let rows: {
      partition: number;
      owner: string | null;
      expires_in: number | null;
      pending: number;
      oldest: number | null;
    }[];
    try {
      rows = (await this.#pool.query<(typeof rows)[number]>(this.#statsSql)).rows;
    } catch (error) {
      throw this.#error(error, 'reading outbox stats');
    }
    const age = (ms: number | null) => (ms === null ? null : Math.max(0, Math.round(ms)));
    const partitions = rows.map((r) => ({
      partition: r.partition,
      owner: r.owner,
      leaseExpiresInMs: age(r.expires_in),
      pending: r.pending,
      oldestPendingAgeMs: age(r.oldest),
    }));
    const ages = partitions.flatMap((p) => (p.oldestPendingAgeMs === null ? [] : [p.oldestPendingAgeMs]));
    return {
      pending: partitions.reduce((n, p) => n + p.pending, 0),
      oldestPendingAgeMs: ages.length === 0 ? null : Math.max(...ages),
      partitions,
    };
  }

  /**
   * The rows of `topic` in the outbox (pending) and in `outbox_archive` (delivered, kept there for
   * `keepDeliveredMs`; without it delivered rows are deleted and not listed), in position order. One statement
   * per page, so a row moving to the archive while a page is read is listed once.
   */
  async listRows(topic: string, cursor: string | undefined, limit: number): Promise<OutboxListing> {
    let found: {
      position: string;
      id: string;
      source: string;
      key: string;
      sequence: string;
      delivered: boolean;
    }[];
    try {
      found = (
        await queryPrepared<(typeof found)[number]>(this.#pool, this.#listSql, [cursor ?? '0', topic, limit])
      ).rows;
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
        delivered: r.delivered,
      }),
    );
    return { rows, cursor: rows.length < limit ? undefined : found[found.length - 1]!.position };
  }

  /** The chains of `topic` from `outbox_sequence`, ordered by source and key. */
  async listChains(topic: string, cursor: string | undefined, limit: number): Promise<OutboxChainListing> {
    const [source, key] = cursor === undefined ? ['', ''] : (JSON.parse(cursor) as [string, string]);
    let found: { source: string; key: string; appended: string }[];
    try {
      found = (
        await queryPrepared<(typeof found)[number]>(this.#pool, this.#chainsSql, [topic, source, key, limit])
      ).rows;
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
   * Stops waiting, destroys the listening connection and waits for a housekeeping round in progress; the pool
   * belongs to the caller. Idempotent.
   */
  async close(): Promise<void> {
    await this.#listener.close();
    await this.#housekeeper.close();
  }

  #error(error: unknown, doing: string) {
    return toSluiceError(error, `${doing} in ${this.#table}`, `outbox table ${this.#table} is missing`);
  }
}

/**
 * Opens the outbox on `pool` (a `pg.Pool`): `await createPostgresOutbox(pool, { source: 'urn:service:orders' })`.
 * Throws `MigrationRequiredError` unless the schema is migrated, or migrates it with `migrate: true`.
 */
export async function createPostgresOutbox(
  pool: PgPool,
  options: PostgresOutboxOptions,
): Promise<PostgresOutbox> {
  const resolved = resolvePostgresOutboxOptions(options);
  if (!isPgPool(pool)) {
    throw new InvalidOptionError('postgres outbox', 'pool', 'must be a pg.Pool (with query() and connect())');
  }
  const executor = fromPg(pool);
  if (resolved.migrate) await migrate(executor, resolved.schema);
  else await assertMigrated(executor, resolved.schema, `outbox table ${resolved.schema}.outbox`);
  return new PostgresOutbox(pool, resolved);
}
