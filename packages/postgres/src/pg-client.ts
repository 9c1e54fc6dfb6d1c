import { createHash } from 'node:crypto';

/**
 * The few shapes of `pg` (node-postgres) that Sluice uses, declared structurally so that neither core nor this
 * package imports the driver: a `pg.Pool`, a `pg.PoolClient` and a `pg.Client` all fit (as Kysely's
 * `PostgresPool` does: "we don't use the type from pg here to not have a dependency to it").
 */

/** What one query resolves to: the rows and, for writes, how many rows it touched. */
export interface PgQueryResult<R> {
  readonly rows: R[];
  readonly rowCount: number | null;
  /** The command tag, e.g. `COMMIT`, or `ROLLBACK` for a COMMIT of a transaction that had already failed. */
  readonly command?: string;
}

/** Anything that runs a parameterised query: a `pg.Pool`, `pg.PoolClient` or `pg.Client`. */
export interface PgQueryable {
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<PgQueryResult<R>>;
}

/** A `LISTEN` notification as `pg` delivers it. */
export interface PgNotification {
  readonly channel: string;
  readonly payload?: string | undefined;
}

/** A connection checked out of a pool (`pg.PoolClient`). */
export interface PgPoolClient extends PgQueryable {
  /** Returns the connection to the pool; `true` or an error destroys it instead. */
  release(destroy?: boolean | Error): void;
  on(event: 'notification', listener: (message: PgNotification) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  off(event: 'error', listener: (error: Error) => void): unknown;
}

/**
 * Checks a connection out of `pool` with an `'error'` listener attached for as long as it is checked out:
 * node-postgres emits `'error'` on a checked-out client whose connection drops (a server restart), and with
 * no listener that kills the process. `lost()` says whether it happened (then release with the error, which
 * destroys the connection); `release()` detaches the listener and returns or destroys the connection.
 */
export async function checkOut(pool: PgPool): Promise<{
  readonly client: PgPoolClient;
  lost(): Error | undefined;
  release(broken?: Error): void;
}> {
  const client = await pool.connect();
  let lostWith: Error | undefined;
  const onError = (error: Error) => {
    lostWith ??= error;
  };
  client.on('error', onError);
  return {
    client,
    lost: () => lostWith,
    release(broken) {
      client.off('error', onError);
      client.release(broken ?? lostWith ?? false);
    },
  };
}

/**
 * A connection pool (`pg.Pool`). Sluice runs its own short statements through `query`, checks out a connection
 * with `connect()` for transactions (the inbox) and for `LISTEN` (a waiting relay), and never ends the pool:
 * the pool belongs to the caller.
 */
export interface PgPool extends PgQueryable {
  connect(): Promise<PgPoolClient>;
}

/**
 * One `execute(sql, params)` method: the seam through which Sluice writes inside the caller's transaction,
 * whatever the caller uses to talk to PostgreSQL (pg here; Kysely, Drizzle, Knex or Prisma adapters later).
 *
 * The implementer owns running the statement on the connection that holds the caller's transaction (never on
 * another pooled connection) and returning the result rows as plain objects keyed by column name. It does not
 * own transactions: Sluice never begins, commits or rolls back through an executor it was given.
 */
export interface SqlExecutor {
  execute<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
}

/**
 * Adapts a `pg` client (or pool) to {@link SqlExecutor}. Pass the client that runs your transaction
 * (`const client = await pool.connect(); await client.query('BEGIN'); outbox.append(fromPg(client), ...)`);
 * a pool is fine for a statement that is its own transaction.
 *
 * Statements run as named prepared statements (`prepare`, default true): parsed once per connection and
 * planned from PostgreSQL's plan cache, which roughly halves the server time of Sluice's append. Pass
 * `{ prepare: false }` behind a pooler that cannot keep prepared statements (PgBouncer in transaction mode
 * before 1.21).
 */
export function fromPg(client: PgQueryable, options: { prepare?: boolean } = {}): SqlExecutor {
  const prepare = options.prepare ?? true;
  return {
    async execute<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
      const result = prepare
        ? await queryPrepared<R>(client, sql, [...params])
        : await client.query<R>(sql, [...params]);
      return result.rows;
    },
  };
}

const statementNames = new Map<string, string>();

/** A stable name for a statement's text: the same text gets the same prepared statement on a connection. */
function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (name === undefined) {
    name = `sluice_${createHash('sha1').update(sql).digest('hex').slice(0, 24)}`;
    statementNames.set(sql, name);
  }
  return name;
}

/**
 * Runs `sql` as a named prepared statement through a `pg` client or pool (node-postgres prepares a named
 * statement once per connection, then only binds and executes it).
 */
export function queryPrepared<R>(db: PgQueryable, sql: string, params: unknown[]): Promise<PgQueryResult<R>> {
  const query = db.query as unknown as (config: {
    name: string;
    text: string;
    values: unknown[];
  }) => Promise<PgQueryResult<R>>;
  return query.call(db, { name: statementName(sql), text: sql, values: params });
}

/** Whether `value` looks like a `pg.Pool` (has `query` and `connect`). */
export function isPgPool(value: unknown): value is PgPool {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { query?: unknown }).query === 'function' &&
    typeof (value as { connect?: unknown }).connect === 'function'
  );
}
