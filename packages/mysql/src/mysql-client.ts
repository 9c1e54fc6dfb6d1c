/**
 * The few shapes of `mysql2` (promise API) that Sluice uses, declared structurally so that neither core nor
 * this package imports the driver: a `mysql2/promise` `Pool`, `PoolConnection` and `Connection` all fit (as
 * Kysely's `MysqlPool` does).
 */

/** What a write (`INSERT`, `UPDATE`, `DELETE`) resolves to in mysql2: its `ResultSetHeader`. */
export interface MysqlWriteResult {
  readonly affectedRows: number;
  /** The AUTO_INCREMENT value or the `LAST_INSERT_ID(expr)` the statement set. */
  readonly insertId: number;
}

/** Anything that runs a statement with `?` placeholders: a mysql2 promise `Pool`, `PoolConnection` or `Connection`. */
export interface MysqlQueryable {
  query(sql: string, values?: unknown): Promise<[unknown, unknown]>;
}

/** A connection checked out of a pool (`PoolConnection`): returned with `release()`, dropped with `destroy()`. */
export interface MysqlPoolConnection extends MysqlQueryable {
  release(): void;
  destroy(): void;
}

/**
 * A connection pool (mysql2 promise `Pool`). Sluice runs its own short statements through `query` (each its own
 * transaction) and checks out a connection with `getConnection()` for transactions (acknowledgements, leases,
 * the inbox) and for migrations' `GET_LOCK`. It never ends the pool: the pool belongs to the caller.
 */
export interface MysqlPool extends MysqlQueryable {
  getConnection(): Promise<MysqlPoolConnection>;
}

/**
 * The seam through which Sluice writes inside the caller's transaction, whatever the caller uses to talk to
 * MySQL (mysql2 here; Kysely, Drizzle, Knex or Prisma adapters later).
 *
 * The implementer owns running each statement on the connection that holds the caller's transaction (never on
 * another pooled connection), returning a query's rows as plain objects keyed by column name and a write's
 * affected rows and `insertId`. It does not own transactions: Sluice never begins, commits or rolls back
 * through an executor it was given.
 */
export interface SqlExecutor {
  /**
   * True when successive statements may run on different connections (an executor on a pool): each is then its
   * own transaction, and `append`, which needs its two statements in one transaction, refuses it.
   */
  readonly pooled?: boolean;
  /** Runs a query; resolves its rows. */
  execute<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** Runs a write; resolves the rows it touched and the `insertId` it set. */
  write(sql: string, params?: readonly unknown[]): Promise<MysqlWriteResult>;
}

/**
 * Adapts a mysql2 promise connection to {@link SqlExecutor}. Pass the connection that runs your transaction
 * (`const conn = await pool.getConnection(); await conn.beginTransaction(); outbox.append(fromMysql(conn), ...)`);
 * on a pool each statement is its own transaction (fine for a handler's single statement, refused by `append`).
 */
export function fromMysql(conn: MysqlQueryable): SqlExecutor {
  return {
    pooled: isMysqlPool(conn),
    async execute<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
      const [rows] = await conn.query(sql, [...params]);
      return Array.isArray(rows) ? (rows as R[]) : [];
    },
    async write(sql: string, params: readonly unknown[] = []): Promise<MysqlWriteResult> {
      const [header] = await conn.query(sql, [...params]);
      const h = header as Partial<MysqlWriteResult> | null;
      return { affectedRows: Number(h?.affectedRows ?? 0), insertId: Number(h?.insertId ?? 0) };
    },
  };
}

/** Whether `value` looks like a mysql2 promise `Pool` (has `query` and `getConnection`). */
export function isMysqlPool(value: unknown): value is MysqlPool {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { query?: unknown }).query === 'function' &&
    typeof (value as { getConnection?: unknown }).getConnection === 'function'
  );
}

/** Rows of a query on a pool or connection. */
export async function queryRows<R>(
  db: MysqlQueryable,
  sql: string,
  params: readonly unknown[] = [],
): Promise<R[]> {
  const [rows] = await db.query(sql, [...params]);
  return Array.isArray(rows) ? (rows as R[]) : [];
}

/**
 * Runs `work` in one READ COMMITTED transaction on a connection checked out of `pool`, then commits; rolls back
 * and rethrows if it throws, and destroys the connection instead of pooling it if the rollback fails too.
 *
 * Sluice's own reads and writes all go through here, never through an autocommitted `pool.query`: under
 * READ COMMITTED every statement sees what committed before it began, whatever the pool's sessions are set to
 * (MariaDB and MySQL default to REPEATABLE READ, and a pool configured with `autocommit=0` would otherwise
 * keep one snapshot open forever, so the relay would stop seeing new commits). A transaction left open on the
 * pooled session is rolled back first.
 */
export async function inReadCommitted<T>(
  pool: MysqlPool,
  work: (conn: MysqlPoolConnection) => Promise<T>,
  options: { readOnly?: boolean } = {},
): Promise<T> {
  const conn = await pool.getConnection();
  let broken = false;
  try {
    await conn.query('SET TRANSACTION ISOLATION LEVEL READ COMMITTED').catch(async (error: unknown) => {
      // A pooled session left inside a transaction (autocommit=0, or a caller that never committed): end it,
      // then start ours.
      if ((error as { code?: unknown } | null)?.code !== 'ER_CANT_CHANGE_TX_CHARACTERISTICS') throw error;
      await conn.query('ROLLBACK');
      await conn.query('SET TRANSACTION ISOLATION LEVEL READ COMMITTED');
    });
    await conn.query(options.readOnly ? 'START TRANSACTION READ ONLY' : 'START TRANSACTION');
    const result = await work(conn);
    await conn.query('COMMIT');
    return result;
  } catch (error) {
    broken = await conn.query('ROLLBACK').then(
      () => false,
      () => true,
    );
    throw error;
  } finally {
    if (broken) conn.destroy();
    else conn.release();
  }
}
