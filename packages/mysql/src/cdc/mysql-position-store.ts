import { InvalidOptionError, type PositionStore } from '@sluice/core';
import { toSluiceError } from '../errors.js';
import { checkIdentifier, quoteIdentifier } from '../identifier.js';
import type { MysqlQueryable } from '../mysql-client.js';

/** Options of {@link MysqlPositionStore}. */
export interface MysqlPositionStoreOptions {
  /** The table holding the positions, made on the first save if missing. Default `sluice_change_positions`. */
  readonly table?: string;
  /** Its database. Default: the pool's current database. */
  readonly database?: string;
}

/**
 * Change sources' positions in a small MySQL/MariaDB table, `(name PRIMARY KEY, position, updated_at)`, each
 * save its own autocommitted statement (durable once it resolves, with InnoDB's default
 * `innodb_flush_log_at_trx_commit=1`). The pool belongs to the caller and is never ended here.
 */
export class MysqlPositionStore implements PositionStore {
  readonly #db: MysqlQueryable;
  readonly #table: string;
  #created: Promise<void> | undefined;

  constructor(pool: MysqlQueryable, options: MysqlPositionStoreOptions = {}) {
    if (typeof pool?.query !== 'function') {
      throw new InvalidOptionError(
        'MysqlPositionStore',
        'pool',
        'must be a mysql2 promise Pool or Connection',
      );
    }
    const table = quoteIdentifier(
      checkIdentifier('MysqlPositionStore', 'table', options.table ?? 'sluice_change_positions'),
    );
    this.#table =
      options.database === undefined
        ? table
        : `${quoteIdentifier(checkIdentifier('MysqlPositionStore', 'database', options.database))}.${table}`;
    this.#db = pool;
  }

  /** Read-only: a table not made yet (nothing saved) is no position, and is not created here. */
  async load(name: string): Promise<string | undefined> {
    try {
      const [rows] = await this.#db.query(`SELECT position FROM ${this.#table} WHERE name = ?`, [name]);
      return (rows as { position: string }[])[0]?.position;
    } catch (error) {
      if ((error as { code?: unknown } | null)?.code === 'ER_NO_SUCH_TABLE') return undefined;
      throw toSluiceError(error, 'loading a change position', this.#table);
    }
  }

  async save(name: string, position: string): Promise<void> {
    await this.#create();
    await this.#run(
      'saving a change position',
      `INSERT INTO ${this.#table} (name, position, updated_at) VALUES (?, ?, NOW(6))
       ON DUPLICATE KEY UPDATE position = VALUES(position), updated_at = VALUES(updated_at)`,
      [name, position],
    );
  }

  async close(): Promise<void> {}

  #create(): Promise<void> {
    this.#created ??= this.#run(
      'creating the change position table',
      `CREATE TABLE IF NOT EXISTS ${this.#table} (
         name VARCHAR(191) NOT NULL PRIMARY KEY,
         position TEXT NOT NULL,
         updated_at DATETIME(6) NOT NULL
       ) ENGINE=InnoDB`,
      [],
    ).then(
      () => undefined,
      (error: unknown) => {
        this.#created = undefined;
        throw error;
      },
    );
    return this.#created;
  }

  async #run(doing: string, sql: string, params: unknown[]): Promise<[unknown, unknown]> {
    try {
      return await this.#db.query(sql, params);
    } catch (error) {
      throw toSluiceError(error, doing, this.#table);
    }
  }
}
