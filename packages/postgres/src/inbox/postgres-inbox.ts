import {
  type BatchEvent,
  type BatchOutcome,
  DATABASE_UNAVAILABLE,
  errorMessage,
  type InboxStore,
  InvalidOptionError,
  SluiceError,
} from '@sluice/core';
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
  ): Promise<'applied' | 'duplicate'> {
    let conn: Awaited<ReturnType<typeof checkOut>>;
    try {
      conn = await checkOut(this.#pool);
    } catch (error) {
      throw this.#error(error, 'connecting for the inbox');
    }
    const { client } = conn;
    let broken: Error | undefined;
    try {
      try {
        await client.query('BEGIN');
        const { rows } = await client.query(this.#recordSql, [group, eventId]);
        if (rows.length === 0) {
          await client.query('ROLLBACK');
          return 'duplicate';
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
            { cause: error, retryable: true },
          );
        }
        throw error;
      }
      let command: string | undefined;
      try {
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
          { retryable: true },
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
        for (const e of events) {
          // An id twice in the batch: the first occurrence takes it.
          if (!fresh.delete(e.eventId)) {
            outcomes.push({ status: 'duplicate' });
            continue;
          }
          await client.query('SAVEPOINT sluice_event');
          try {
            await e.apply(tx);
            await client.query('RELEASE SAVEPOINT sluice_event');
            outcomes.push({ status: 'applied' });
          } catch (error) {
            if (conn.lost()) throw error;
            await client.query('ROLLBACK TO SAVEPOINT sluice_event');
            failed.push(e.eventId);
            outcomes.push({ status: 'failed', error });
          }
        }
        if (failed.length > 0) await client.query(this.#forgetSql, [group, failed]);
        const { command } = await client.query('COMMIT');
        if (command === 'ROLLBACK') throw new Error('PostgreSQL rolled the batch back at COMMIT');
      } catch (error) {
        broken = await rollback(client, error);
        const lost = conn.lost() ?? broken;
        throw new SluiceError(
          lost ? DATABASE_UNAVAILABLE : 'SLUICE_INBOX_BATCH_FAILED',
          `applying ${events.length} events for group ${group} in one transaction failed (${lost ? `the connection was lost: ${lost.message}` : errorMessage(error)}). Nothing of the batch was applied; the events are run one by one`,
          { cause: error, retryable: true },
        );
      }
      return outcomes;
    } finally {
      conn.release(broken);
    }
  }

  /** Nothing to release: connections go back to the caller's pool after each `runOnce`. */
  async close(): Promise<void> {}

  #error(error: unknown, doing: string) {
    return toSluiceError(error, `${doing} in ${this.#table}`, `inbox table ${this.#table} is missing`);
  }
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
