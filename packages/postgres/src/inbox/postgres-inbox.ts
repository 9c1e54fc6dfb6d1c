import {
  DATABASE_UNAVAILABLE,
  errorMessage,
  type InboxStore,
  InvalidOptionError,
  SluiceError,
} from '@sluice/core';
import type { BatchEvent, BatchOutcome, ChainCheck } from '@sluice/core/adapter';
import { toSluiceError } from '../errors.js';
import { quoteIdentifier } from '../identifier.js';
import { assertMigrated, migrate } from '../migrations/migrate.js';
import {
  checkOut,
  fromPg,
  isPgPool,
  type PgPool,
  type PgPoolClient,
  type SqlExecutor,
} from '../pg-client.js';
import {
  type PostgresInboxOptions,
  type ResolvedPostgresInboxOptions,
  resolvePostgresInboxOptions,
} from './postgres-inbox-options.js';

/**
 * The consumer inbox in PostgreSQL. Each `runOnce` checks a connection out of the pool, records the event id
 * and runs the handler in one transaction on it, and returns it to the pool. The handler gets that
 * transaction as a {@link SqlExecutor}: write through it, not through the pool, or the writes are not part of
 * the transaction.
 */
export class PostgresInbox implements InboxStore<SqlExecutor> {
  readonly name: string;
  readonly #pool: PgPool;
  readonly #table: string;
  readonly #recordSql: string;
  readonly #recordManySql: string;
  readonly #forgetSql: string;
  readonly #chainLastSql: string;
  readonly #chainLastManySql: string;
  readonly #chainStoreSql: string;
  readonly #groupStartSql: string;

  /** Use {@link createPostgresInbox}: it checks the migrations first. */
  constructor(pool: PgPool, options: ResolvedPostgresInboxOptions) {
    this.#pool = pool;
    this.#table = `${options.schema}.inbox`;
    this.name = `postgres:${options.schema}`;
    const t = `${quoteIdentifier(options.schema)}.inbox`;
    this.#recordManySql = `INSERT INTO ${t} (consumer_group, event_id)
SELECT $1, id FROM unnest($2::text[]) AS u(id) ON CONFLICT (consumer_group, event_id) DO NOTHING RETURNING event_id`;
    this.#forgetSql = `DELETE FROM ${t} WHERE consumer_group = $1 AND event_id = ANY ($2::text[])`;
    this.#recordSql = `INSERT INTO ${quoteIdentifier(options.schema)}.inbox (consumer_group, event_id)
VALUES ($1, $2) ON CONFLICT (consumer_group, event_id) DO NOTHING RETURNING event_id`;
    const c = `${quoteIdentifier(options.schema)}.inbox_chain`;
    const g = `${quoteIdentifier(options.schema)}.inbox_group`;
    this.#chainLastSql = `SELECT last_sequence FROM ${c}
WHERE consumer_group = $1 AND source = $2 AND topic = $3 AND key = $4 FOR UPDATE`;
    this.#chainLastManySql = `SELECT c.source, c.topic, c.key, c.last_sequence
FROM unnest($2::text[], $3::text[], $4::text[]) AS u(source, topic, key)
JOIN ${c} c ON c.consumer_group = $1 AND c.source = u.source AND c.topic = u.topic AND c.key = u.key
FOR UPDATE OF c`;
    this.#chainStoreSql = `INSERT INTO ${c} (consumer_group, source, topic, key, last_sequence)
SELECT $1, u.source, u.topic, u.key, u.last_sequence
FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[]) AS u(source, topic, key, last_sequence)
ON CONFLICT (consumer_group, source, topic, key)
DO UPDATE SET last_sequence = excluded.last_sequence, updated_at = clock_timestamp()`;
    // One statement: records the group's start unless recorded, then reads what is recorded. A concurrent first
    // start of the same group waits on the new row's lock and reads the other's answer.
    this.#groupStartSql = `WITH fresh AS (
  INSERT INTO ${g} (consumer_group, from_start)
  SELECT $1, $2::boolean AND NOT EXISTS (SELECT 1 FROM ${t} WHERE consumer_group = $1)
    AND NOT EXISTS (SELECT 1 FROM ${c} WHERE consumer_group = $1)
  ON CONFLICT (consumer_group) DO NOTHING RETURNING from_start
)
SELECT from_start FROM fresh UNION ALL SELECT from_start FROM ${g} WHERE consumer_group = $1`;
  }

  /**
   * In one transaction: record `eventId` for `group`; if it was already recorded, roll back and resolve
   * `duplicate` without calling `apply`; otherwise run `apply` and commit, resolving `applied`. If `apply`
   * throws, roll back (its writes and the record) and rethrow its error unchanged. A concurrent `runOnce` of
   * the same event waits for this one's outcome (the inbox row's lock), so it is applied once.
   */
  async runOnce(
    group: string,
    eventId: string,
    apply: (tx: SqlExecutor) => unknown,
    chain?: ChainCheck,
  ): Promise<'applied' | 'duplicate' | 'refused'> {
    let conn: Awaited<ReturnType<typeof checkOut>>;
    try {
      conn = await checkOut(this.#pool);
    } catch (error) {
      throw this.#error(error, 'connecting for the inbox');
    }
    const { client } = conn;
    let broken: Error | undefined;
    let next: number | undefined;
    try {
      try {
        await client.query('BEGIN');
        const { rows } = await client.query(this.#recordSql, [group, eventId]);
        if (rows.length === 0) {
          await client.query('ROLLBACK');
          return 'duplicate';
        }
        if (chain) {
          const last = await client.query<{ last_sequence: string }>(this.#chainLastSql, [
            group,
            chain.source,
            chain.topic,
            chain.key,
          ]);
          const stored = last.rows[0];
          next = chain.check(stored === undefined ? undefined : Number(stored.last_sequence));
          if (next === undefined) {
            await client.query('ROLLBACK');
            return 'refused';
          }
        }
      } catch (error) {
        broken = await rollback(client, error);
        throw this.#error(error, `recording event ${eventId} for group ${group}`);
      }
      try {
        // Handlers may build their SQL dynamically: not prepared, so no connection collects statements.
        await apply(fromPg(client, { prepare: false }));
      } catch (error) {
        broken = await rollback(client, error);
        // The connection died under the handler (a server restart; ROLLBACK failed too): the database's
        // fault, not the handler's, so the consumer waits for the database instead of spending an attempt.
        const lost = conn.lost() ?? broken;
        if (lost) {
          throw new SluiceError(
            DATABASE_UNAVAILABLE,
            `applying event ${eventId} for group ${group} failed: the connection to PostgreSQL was lost (${lost.message}). Nothing was applied; the event is retried once the database answers`,
            { cause: error },
          );
        }
        throw error;
      }
      let command: string | undefined;
      try {
        if (chain && next !== undefined) {
          await client.query(this.#chainStoreSql, [
            group,
            [chain.source],
            [chain.topic],
            [chain.key],
            [next],
          ]);
        }
        command = (await client.query('COMMIT')).command;
      } catch (error) {
        broken = await rollback(client, error);
        throw this.#error(error, `committing event ${eventId} for group ${group}`);
      }
      if (command === 'ROLLBACK') {
        // PostgreSQL answers COMMIT with ROLLBACK when a statement of the transaction had failed (and the
        // handler caught the error): nothing was applied, not even the inbox record.
        throw new SluiceError(
          'SLUICE_INBOX_ROLLED_BACK',
          `event ${eventId} for group ${group} was not applied: a statement of the handler failed and PostgreSQL rolled the transaction back at commit. Let the handler's database errors propagate; the event is retried`,
        );
      }
      return 'applied';
    } finally {
      conn.release(broken);
    }
  }

  /**
   * Several events in one transaction, one commit: the events' ids are recorded in one statement (those
   * already recorded are duplicates), then each new event's handler runs inside a savepoint. A handler that
   * throws is rolled back to its savepoint and its record removed, so it alone is `failed`; the rest commit.
   * A lost connection or a failed commit throws (nothing committed) and the consumer runs them one by one.
   */
  async runBatch(group: string, events: readonly BatchEvent<SqlExecutor>[]): Promise<BatchOutcome[]> {
    let conn: Awaited<ReturnType<typeof checkOut>>;
    try {
      conn = await checkOut(this.#pool);
    } catch (error) {
      throw this.#error(error, 'connecting for the inbox');
    }
    const { client } = conn;
    const tx = fromPg(client, { prepare: false });
    let broken: Error | undefined;
    try {
      const outcomes: BatchOutcome[] = [];
      const failed: string[] = [];
      try {
        await client.query('BEGIN');
        const { rows } = await client.query<{ event_id: string }>(this.#recordManySql, [
          group,
          events.map((e) => e.eventId),
        ]);
        const fresh = new Set(rows.map((r) => r.event_id));
        const lasts = await this.#chainLasts(client, group, events, fresh);
        const stored: { source: string[]; topic: string[]; key: string[]; last: number[] } = {
          source: [],
          topic: [],
          key: [],
          last: [],
        };
        for (const e of events) {
          // An id twice in the batch: the first occurrence takes it.
          if (!fresh.delete(e.eventId)) {
            outcomes.push({ status: 'duplicate' });
            continue;
          }
          const next = e.chain?.check(lasts.get(chainId(e.chain)));
          if (e.chain && next === undefined) {
            failed.push(e.eventId);
            outcomes.push({ status: 'refused' });
            continue;
          }
          await client.query('SAVEPOINT sluice_event');
          try {
            await e.apply(tx);
            await client.query('RELEASE SAVEPOINT sluice_event');
            outcomes.push({ status: 'applied' });
            if (e.chain && next !== undefined) {
              stored.source.push(e.chain.source);
              stored.topic.push(e.chain.topic);
              stored.key.push(e.chain.key);
              stored.last.push(next);
            }
          } catch (error) {
            if (conn.lost()) throw error;
            await client.query('ROLLBACK TO SAVEPOINT sluice_event');
            failed.push(e.eventId);
            outcomes.push({ status: 'failed', error });
          }
        }
        if (failed.length > 0) await client.query(this.#forgetSql, [group, failed]);
        if (stored.last.length > 0) {
          await client.query(this.#chainStoreSql, [
            group,
            stored.source,
            stored.topic,
            stored.key,
            stored.last,
          ]);
        }
        const { command } = await client.query('COMMIT');
        if (command === 'ROLLBACK') throw new Error('PostgreSQL rolled the batch back at COMMIT');
      } catch (error) {
        broken = await rollback(client, error);
        const lost = conn.lost() ?? broken;
        throw new SluiceError(
          lost ? DATABASE_UNAVAILABLE : 'SLUICE_INBOX_BATCH_FAILED',
          `applying ${events.length} events for group ${group} in one transaction failed (${lost ? `the connection was lost: ${lost.message}` : errorMessage(error)}). Nothing of the batch was applied; the events are run one by one`,
          { cause: error },
        );
      }
      return outcomes;
    } finally {
      conn.release(broken);
    }
  }

  /** The stored last sequences (locked) of the batch's new events' chains, by {@link chainId}. */
  async #chainLasts(
    client: PgPoolClient,
    group: string,
    events: readonly BatchEvent<SqlExecutor>[],
    fresh: ReadonlySet<string>,
  ): Promise<Map<string, number>> {
    const lasts = new Map<string, number>();
    const chains = events.flatMap((e) => (e.chain && fresh.has(e.eventId) ? [e.chain] : []));
    if (chains.length === 0) return lasts;
    const { rows } = await client.query<{
      source: string;
      topic: string;
      key: string;
      last_sequence: string;
    }>(this.#chainLastManySql, [
      group,
      chains.map((c) => c.source),
      chains.map((c) => c.topic),
      chains.map((c) => c.key),
    ]);
    for (const r of rows) lasts.set(chainId(r), Number(r.last_sequence));
    return lasts;
  }

  /** Checks and stores the chain of an event the consumer settles without applying it, in one transaction. */
  async passChain(group: string, chain: ChainCheck): Promise<'passed' | 'refused'> {
    let conn: Awaited<ReturnType<typeof checkOut>>;
    try {
      conn = await checkOut(this.#pool);
    } catch (error) {
      throw this.#error(error, 'connecting for the inbox');
    }
    const { client } = conn;
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ last_sequence: string }>(this.#chainLastSql, [
        group,
        chain.source,
        chain.topic,
        chain.key,
      ]);
      const next = chain.check(rows[0] === undefined ? undefined : Number(rows[0].last_sequence));
      if (next === undefined) {
        await client.query('ROLLBACK');
        return 'refused';
      }
      await client.query(this.#chainStoreSql, [group, [chain.source], [chain.topic], [chain.key], [next]]);
      await client.query('COMMIT');
      return 'passed';
    } catch (error) {
      broken = await rollback(client, error);
      throw this.#error(error, `storing the sequence of key ${chain.key} for group ${group}`);
    } finally {
      conn.release(broken);
    }
  }

  /**
   * Records, once, whether `group`'s chains are tracked from their first event: `fromStart` if the inbox holds
   * nothing for the group yet, else false; later calls resolve what was recorded.
   */
  async startGroup(group: string, fromStart: boolean): Promise<boolean> {
    try {
      const { rows } = await this.#pool.query<{ from_start: boolean }>(this.#groupStartSql, [
        group,
        fromStart,
      ]);
      return rows[0]?.from_start === true;
    } catch (error) {
      throw this.#error(error, `starting group ${group}`);
    }
  }

  /** Nothing to release: connections go back to the caller's pool after each `runOnce`. */
  async close(): Promise<void> {}

  #error(error: unknown, doing: string) {
    return toSluiceError(error, `${doing} in ${this.#table}`, `inbox table ${this.#table} is missing`);
  }
}

/** A chain's identity within one group. */
function chainId(chain: { source: string; topic: string; key: string }): string {
  return `${chain.source}\u0000${chain.topic}\u0000${chain.key}`;
}

/** Rolls back after a failure; returns an error if the connection is unusable (then it is destroyed). */
async function rollback(client: PgPoolClient, cause: unknown): Promise<Error | undefined> {
  try {
    await client.query('ROLLBACK');
    return undefined;
  } catch {
    return cause instanceof Error ? cause : new Error(String(cause));
  }
}

/**
 * Opens the inbox on `pool` (a `pg.Pool`): `await createPostgresInbox(pool)`. Throws `MigrationRequiredError`
 * unless the schema is migrated, or migrates it with `migrate: true`.
 */
export async function createPostgresInbox(
  pool: PgPool,
  options: PostgresInboxOptions = {},
): Promise<PostgresInbox> {
  const resolved = resolvePostgresInboxOptions(options);
  if (!isPgPool(pool)) {
    throw new InvalidOptionError('postgres inbox', 'pool', 'must be a pg.Pool (with query() and connect())');
  }
  const executor = fromPg(pool);
  if (resolved.migrate) await migrate(executor, resolved.schema);
  else await assertMigrated(executor, resolved.schema, `inbox table ${resolved.schema}.inbox`);
  return new PostgresInbox(pool, resolved);
}
