import { errorCode, errorMessage } from '../../errors.js';
import type { PreflightCheck } from '../preflight-check.js';
import type { PolledRow } from './polled-row.js';
import type { PolledTable, PolledTableFetch, QueryMode } from './polled-table.js';
import type { PolledTableLock } from './polled-table-lock.js';
import { polledRowFromSql } from './sql-polled-row.js';
import { microsFromTimestampText } from './timestamp-text.js';

/**
 * The statements of a SQL {@link PolledTable}. Each fetch statement selects `t.*` plus `POLLED_ID_COLUMN` (and
 * `POLLED_TIMESTAMP_COLUMN`) as text; `now` selects the database's clock as a column `now`, rendered like the
 * timestamps (`YYYY-MM-DD HH:MM:SS.ffffff`).
 */
export interface PolledTableStatements {
  /** The first fetch: no lower bound. */
  readonly first: string;
  /** Every later fetch: after a cursor. */
  readonly after: string;
  readonly now: string;
}

/**
 * The part of a {@link PolledTable} that is the same in every SQL dialect: statements written once (after the
 * dialect checked the table's columns), rows decoded exactly, the clock read. A dialect supplies the
 * statements, the parameters of a fetch, and how a statement runs.
 */
export abstract class SqlPolledTable implements PolledTable {
  readonly schema: string;
  readonly table: string;
  readonly mode: QueryMode;
  #statements: Promise<PolledTableStatements> | undefined;

  protected constructor(schema: string, table: string, timestamped: boolean) {
    this.schema = schema;
    this.table = table;
    this.mode = timestamped ? 'timestamp+incrementing' : 'incrementing';
  }

  async fetch(request: PolledTableFetch): Promise<PolledRow[]> {
    const sql = await this.#prepare();
    const statement = request.after === undefined ? sql.first : sql.after;
    const rows = await this.query(statement, this.fetchParams(request), true);
    return rows.map(polledRowFromSql);
  }

  async databaseNow(): Promise<number> {
    const sql = await this.#prepare();
    const [row] = await this.query(sql.now, [], false);
    return microsFromTimestampText(String(row?.['now']));
  }

  /** Checks the table and its columns as the first fetch would (read-only catalogue queries). */
  async preflight(): Promise<readonly PreflightCheck[]> {
    const name = `table ${this.schema}.${this.table}`;
    try {
      await this.#prepare();
      return [{ name, ok: true, detail: `exists with the ${this.mode} column(s) it polls` }];
    } catch (error) {
      return [{ name, ok: false, detail: `${errorCode(error)} ${errorMessage(error)}` }];
    }
  }

  abstract lock(name: string): Promise<PolledTableLock | undefined>;

  /** Checks the table and its columns (a permanent error naming what is wrong) and writes the statements. */
  protected abstract statements(): Promise<PolledTableStatements>;

  /** The parameters of the `first` or `after` statement for `request`. */
  protected abstract fetchParams(request: PolledTableFetch): unknown[];

  /**
   * Runs one statement and resolves its rows; `snapshot`: a fetch, which must see only what committed before
   * it began. Driver errors become `SluiceError`s (retryable when the database is unreachable).
   */
  protected abstract query(
    sql: string,
    params: unknown[],
    snapshot: boolean,
  ): Promise<Record<string, unknown>[]>;

  #prepare(): Promise<PolledTableStatements> {
    this.#statements ??= this.statements().catch((error: unknown) => {
      this.#statements = undefined;
      throw error;
    });
    return this.#statements;
  }
}
