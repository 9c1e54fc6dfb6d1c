import { createHash } from 'node:crypto';
import {
  DATABASE_UNAVAILABLE,
  errorMessage,
  type InboxStore,
  InvalidOptionError,
  SluiceError,
} from '@sluice/core';
import type { BatchEvent, BatchOutcome, ChainCheck } from '@sluice/core/adapter';
import { errorCodeOf, isConnectionLost, toSluiceError } from '../errors.js';
import { quoteIdentifier } from '../identifier.js';
import { assertMigrated, migrate, resolveDatabase } from '../migrations/migrate.js';
import {
  fromMysql,
  isMysqlPool,
  type MysqlPool,
  type MysqlPoolConnection,
  queryRows,
  type SqlExecutor,
} from '../mysql-client.js';
import {
  type MysqlInboxOptions,
  type ResolvedMysqlInboxOptions,
  resolveMysqlInboxOptions,
} from './mysql-inbox-options.js';

/** ER_DUP_ENTRY: the event id is already recorded for the group. */
const DUPLICATE = 'ER_DUP_ENTRY';

/**
 * The consumer inbox in MySQL or MariaDB. Each `runOnce` checks a connection out of the pool, records the event
 * id and runs the handler in one transaction on it, and returns it to the pool. The handler gets that
 * transaction as a {@link SqlExecutor}: write through it, not through the pool, or the writes are not part of
 * the transaction.
 */
export class MysqlInbox implements InboxStore<SqlExecutor> {
  readonly name: string;
  readonly #pool: MysqlPool;
  readonly #table: string;
  readonly #recordSql: string;
  readonly #checkSql: string;
  readonly #chainLastSql: string;
  readonly #chainStoreSql: string;
  readonly #groupStartSql: string;
  readonly #groupReadSql: string;

  /** Use {@link createMysqlInbox}: it resolves the database and checks the migrations first. */
  constructor(pool: MysqlPool, database: string) {
    this.#pool = pool;
    this.#table = `${database}.sluice_inbox`;
    this.name = `mysql:${database}`;
    this.#recordSql = `INSERT INTO ${quoteIdentifier(database)}.sluice_inbox (consumer_group, event_id) VALUES (?, ?)`;
    this.#checkSql = `SELECT 1 AS kept FROM ${quoteIdentifier(database)}.sluice_inbox WHERE consumer_group = ? AND event_id = ?`;
    const d = quoteIdentifier(database);
    this.#chainLastSql = `SELECT last_sequence FROM ${d}.sluice_inbox_chain WHERE consumer_group = ? AND chain_hash = ? FOR UPDATE`;
    // VALUES(): MariaDB has no row alias; MySQL 8 still accepts it.
    this.#chainStoreSql = `INSERT INTO ${d}.sluice_inbox_chain (consumer_group, chain_hash, source, topic, \`key\`, last_sequence)
VALUES (?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE last_sequence = VALUES(last_sequence)`;
    this.#groupStartSql = `INSERT IGNORE INTO ${d}.sluice_inbox_group (consumer_group, from_start)
SELECT ?, ? AND NOT EXISTS (SELECT 1 FROM ${d}.sluice_inbox WHERE consumer_group = ?)
  AND NOT EXISTS (SELECT 1 FROM ${d}.sluice_inbox_chain WHERE consumer_group = ?)`;
    this.#groupReadSql = `SELECT from_start FROM ${d}.sluice_inbox_group WHERE consumer_group = ?`;
  }

  /**
   * In one transaction: record `eventId` for `group` (a plain INSERT: a duplicate key means it was already
   * applied, so roll back and resolve `duplicate` without calling `apply`); otherwise run `apply` and commit,
   * resolving `applied`. If `apply` throws, roll back (its writes and the record) and rethrow its error
   * unchanged. A concurrent `runOnce` of the same event waits on the uncommitted record's lock for this one's
   * outcome, so it is applied once.
   */
  async runOnce(
    group: string,
    eventId: string,
    apply: (tx: SqlExecutor) => unknown,
    chain?: ChainCheck,
  ): Promise<'applied' | 'duplicate' | 'refused'> {
    const conn = await this.#connect();
    let broken = false;
    let next: number | undefined;
    try {
      try {
        await conn.query('START TRANSACTION');
        await conn.query(this.#recordSql, [group, eventId]);
        if (chain) {
          next = chain.check(await this.#chainLast(conn, group, chain));
          if (next === undefined) {
            broken = await rollback(conn);
            return 'refused';
          }
        }
      } catch (error) {
        broken = await rollback(conn);
        if (errorCodeOf(error) === DUPLICATE) return 'duplicate';
        throw this.#error(error, `recording event ${eventId} for group ${group}`);
      }
      try {
        await apply(fromMysql(conn));
      } catch (error) {
        broken = await rollback(conn);
        // The connection died under the handler (a server restart): the database's fault, not the handler's,
        // so the consumer waits for the database instead of spending an attempt.
        if (broken || isConnectionLost(error)) {
          throw new SluiceError(
            DATABASE_UNAVAILABLE,
            `applying event ${eventId} for group ${group} failed: the connection to MySQL was lost (${errorMessage(error)}). Nothing was applied; the event is retried once the database answers`,
            { cause: error },
          );
        }
        throw error;
      }
      let kept: boolean;
      try {
        // InnoDB rolls the whole transaction back on a deadlock; a handler that caught that error and went on
        // would have us commit nothing (its later statements ran outside any transaction). The record, read in
        // the transaction, tells: it is visible only if the transaction still holds it.
        kept = (await queryRows(conn, this.#checkSql, [group, eventId])).length > 0;
        if (chain && next !== undefined) await this.#chainStore(conn, group, chain, next);
        await conn.query('COMMIT');
      } catch (error) {
        broken = await rollback(conn);
        throw this.#error(error, `committing event ${eventId} for group ${group}`);
      }
      if (!kept) {
        throw new SluiceError(
          'SLUICE_INBOX_ROLLED_BACK',
          `event ${eventId} for group ${group} was not recorded: MySQL rolled its transaction back while the handler ran (a deadlock or lock wait timeout the handler caught), so statements after that were not part of it. Let the handler's database errors propagate; the event is retried`,
        );
      }
      return 'applied';
    } finally {
      if (broken) conn.destroy();
      else conn.release();
    }
  }

  /**
   * Several events in one transaction, one commit: each event runs inside a savepoint that records its id (a
   * duplicate key: `duplicate`, rolled back to the savepoint) and runs its handler. A handler that throws is
   * rolled back to its savepoint, record included, so it alone is `failed`; the rest commit. A lost connection
   * or a failed commit throws (nothing committed) and the consumer runs them one by one.
   */
  async runBatch(group: string, events: readonly BatchEvent<SqlExecutor>[]): Promise<BatchOutcome[]> {
    const conn = await this.#connect();
    const tx = fromMysql(conn);
    let broken = false;
    try {
      const outcomes: BatchOutcome[] = [];
      try {
        await conn.query('START TRANSACTION');
        for (const e of events) {
          await conn.query('SAVEPOINT sluice_event');
          try {
            await conn.query(this.#recordSql, [group, e.eventId]);
          } catch (error) {
            if (errorCodeOf(error) !== DUPLICATE) throw error;
            await conn.query('ROLLBACK TO SAVEPOINT sluice_event');
            outcomes.push({ status: 'duplicate' });
            continue;
          }
          const next = e.chain ? e.chain.check(await this.#chainLast(conn, group, e.chain)) : undefined;
          if (e.chain && next === undefined) {
            await conn.query('ROLLBACK TO SAVEPOINT sluice_event');
            outcomes.push({ status: 'refused' });
            continue;
          }
          try {
            await e.apply(tx);
            if (e.chain && next !== undefined) await this.#chainStore(conn, group, e.chain, next);
            await conn.query('RELEASE SAVEPOINT sluice_event');
            outcomes.push({ status: 'applied' });
          } catch (error) {
            if (isConnectionLost(error)) throw error;
            await conn.query('ROLLBACK TO SAVEPOINT sluice_event');
            outcomes.push({ status: 'failed', error });
          }
        }
        await conn.query('COMMIT');
      } catch (error) {
        broken = await rollback(conn);
        const lost = broken || isConnectionLost(error);
        throw new SluiceError(
          lost ? DATABASE_UNAVAILABLE : 'SLUICE_INBOX_BATCH_FAILED',
          `applying ${events.length} events for group ${group} in one transaction failed (${lost ? 'the connection was lost: ' : ''}${errorMessage(error)}). Nothing of the batch was applied; the events are run one by one`,
          { cause: error },
        );
      }
      return outcomes;
    } finally {
      if (broken) conn.destroy();
      else conn.release();
    }
  }

  /** The chain's stored last sequence for `group`, locked until the transaction ends. */
  async #chainLast(conn: MysqlPoolConnection, group: string, chain: ChainCheck): Promise<number | undefined> {
    const rows = await queryRows<{ last_sequence: number | string }>(conn, this.#chainLastSql, [
      group,
      chainHash(chain),
    ]);
    return rows[0] === undefined ? undefined : Number(rows[0].last_sequence);
  }

  async #chainStore(
    conn: MysqlPoolConnection,
    group: string,
    chain: ChainCheck,
    last: number,
  ): Promise<void> {
    await conn.query(this.#chainStoreSql, [
      group,
      chainHash(chain),
      chain.source,
      chain.topic,
      chain.key,
      last,
    ]);
  }

  /** Checks and stores the chain of an event the consumer settles without applying it, in one transaction. */
  async passChain(group: string, chain: ChainCheck): Promise<'passed' | 'refused'> {
    const conn = await this.#connect();
    let broken = false;
    try {
      await conn.query('START TRANSACTION');
      const next = chain.check(await this.#chainLast(conn, group, chain));
      if (next === undefined) {
        broken = await rollback(conn);
        return 'refused';
      }
      await this.#chainStore(conn, group, chain, next);
      await conn.query('COMMIT');
      return 'passed';
    } catch (error) {
      broken = await rollback(conn);
      throw this.#error(error, `storing the sequence of key ${chain.key} for group ${group}`);
    } finally {
      if (broken) conn.destroy();
      else conn.release();
    }
  }

  /**
   * Records, once, whether `group`'s chains are tracked from their first event: `fromStart` if the inbox holds
   * nothing for the group yet, else false; later calls resolve what was recorded.
   */
  async startGroup(group: string, fromStart: boolean): Promise<boolean> {
    try {
      await this.#pool.query(this.#groupStartSql, [group, fromStart, group, group]);
      const rows = await queryRows<{ from_start: number }>(this.#pool, this.#groupReadSql, [group]);
      return Number(rows[0]?.from_start ?? 0) === 1;
    } catch (error) {
      throw this.#error(error, `starting group ${group}`);
    }
  }

  /** Nothing to release: connections go back to the caller's pool after each run. */
  async close(): Promise<void> {}

  async #connect(): Promise<MysqlPoolConnection> {
    try {
      return await this.#pool.getConnection();
    } catch (error) {
      throw this.#error(error, 'connecting for the inbox');
    }
  }

  #error(error: unknown, doing: string) {
    return toSluiceError(error, `${doing} in ${this.#table}`, `inbox table ${this.#table} is missing`);
  }
}

/** The chain's primary-key part: SHA-256 of source, topic and key, NUL-separated. */
function chainHash(chain: ChainCheck): Buffer {
  return createHash('sha256').update(`${chain.source}\u0000${chain.topic}\u0000${chain.key}`).digest();
}

/** Rolls back after a failure; true if the connection is unusable (then it is destroyed, not pooled). */
async function rollback(conn: MysqlPoolConnection): Promise<boolean> {
  try {
    await conn.query('ROLLBACK');
    return false;
  } catch {
    return true;
  }
}

/**
 * Opens the inbox on `pool` (a mysql2 promise `Pool`): `await createMysqlInbox(pool)`. Throws
 * `MigrationRequiredError` unless the database is migrated, or migrates it with `migrate: true`.
 */
export async function createMysqlInbox(
  pool: MysqlPool,
  options: MysqlInboxOptions = {},
): Promise<MysqlInbox> {
  const resolved: ResolvedMysqlInboxOptions = resolveMysqlInboxOptions(options);
  if (!isMysqlPool(pool)) {
    throw new InvalidOptionError(
      'mysql inbox',
      'pool',
      'must be a mysql2/promise Pool (with query() and getConnection())',
    );
  }
  const database = await resolveDatabase(pool, resolved.database, 'mysql inbox');
  if (resolved.migrate) await migrate(pool, { database });
  else await assertMigrated(pool, database, `inbox table ${database}.sluice_inbox`);
  return new MysqlInbox(pool, database);
}
