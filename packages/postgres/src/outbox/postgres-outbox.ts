import {
  type EventContext,
  type EventContract,
  type EventInput,
  InvalidOptionError,
  MigrationRequiredError,
  type OutboxBatch,
  type OutboxRow,
  type OutboxStats,
  type OutboxStore,
  prepareEvent,
} from '@sluice/core';
import { isMissingRelation, toSluiceError } from '../errors.js';
import { quoteIdentifier } from '../identifier.js';
import { assertMigrated, migrate } from '../migrations/migrate.js';
import { fromPg, isPgPool, type PgPool, type SqlExecutor } from '../pg-client.js';
import { AppendListener } from './append-listener.js';
import { appendSql, splitEnvelope } from './append-statement.js';
import { chainOf, OutboxReader } from './outbox-reader.js';
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

/** The relay lease row's name: one lease per schema. */
const LEASE = 'outbox';

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
  readonly #leaseSql: string;
  readonly #releaseSql: string;
  readonly #statsSql: string;
  readonly #reader: OutboxReader;
  readonly #listener: AppendListener;

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
    this.#ackSql = `WITH gone AS (
  DELETE FROM ${s}.outbox WHERE position = ANY ($1::bigint[]) RETURNING source, topic, key, sequence
), last AS (
  SELECT source, topic, key, max(sequence) AS sequence FROM gone GROUP BY source, topic, key
), saved AS (
  INSERT INTO ${s}.outbox_delivered AS d (source, topic, key, sequence)
  SELECT source, topic, key, sequence FROM last ORDER BY source, topic, key
  ON CONFLICT (source, topic, key) DO UPDATE SET sequence = greatest(d.sequence, excluded.sequence)
)
SELECT source, topic, key, sequence::text AS sequence FROM last`;
    this.#leaseSql = `INSERT INTO ${s}.relay_lease AS l (name, owner, expires_at)
VALUES ('${LEASE}', $1, now() + $2::double precision * interval '1 millisecond')
ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
WHERE l.owner = excluded.owner OR l.expires_at < now()
RETURNING owner`;
    this.#releaseSql = `DELETE FROM ${s}.relay_lease WHERE name = '${LEASE}' AND owner = $1`;
    this.#statsSql = `SELECT count(*)::int AS pending,
  (extract(epoch FROM clock_timestamp() - min(created_at)) * 1000)::double precision AS oldest
FROM ${s}.outbox`;
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
    const event = prepareEvent(contract, data);
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
  readPending(cursor: string | undefined, limit: number): Promise<OutboxBatch> {
    return this.#reader.read(cursor, limit);
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
        await this.#pool.query<{ source: string; topic: string; key: string; sequence: string }>(
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
  }

  /**
   * Resolves soon after an append commits (`LISTEN` on the channel, from a connection of the pool opened on the
   * first wait and kept until `close()`), after `timeoutMs`, or on abort. See {@link AppendListener}.
   */
  waitForAppend(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return this.#listener.wait(timeoutMs, signal);
  }

  /** One lease row per schema; expiry is the database's clock, so relays on different hosts agree on it. */
  async acquireLease(owner: string, ttlMs: number): Promise<boolean> {
    try {
      const { rows } = await this.#pool.query(this.#leaseSql, [owner, ttlMs]);
      return rows.length > 0;
    } catch (error) {
      throw this.#error(error, 'taking the relay lease');
    }
  }

  async releaseLease(owner: string): Promise<void> {
    try {
      await this.#pool.query(this.#releaseSql, [owner]);
    } catch (error) {
      throw this.#error(error, 'releasing the relay lease');
    }
  }

  /** Committed rows not yet acknowledged, and the age of the oldest (database clock). */
  async stats(): Promise<OutboxStats> {
    try {
      const { rows } = await this.#pool.query<{ pending: number; oldest: number | null }>(this.#statsSql);
      const row = rows[0]!;
      return {
        pending: row.pending,
        oldestPendingAgeMs: row.oldest === null ? null : Math.max(0, Math.round(row.oldest)),
      };
    } catch (error) {
      throw this.#error(error, 'reading outbox stats');
    }
  }

  /** Stops waiting and destroys the listening connection; the pool belongs to the caller. Idempotent. */
  async close(): Promise<void> {
    await this.#listener.close();
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
