/**
 * One versioned schema change: one statement, applied once, in version order, recorded in
 * `sluice_migrations`. `sql` renders it for a database (a quoted identifier, e.g. `` `app` ``).
 *
 * MySQL commits DDL implicitly, so a step and its history row cannot be one transaction: every step is written
 * to be harmless when repeated (`IF NOT EXISTS`, `INSERT IGNORE`), so a crash between the two is repaired by
 * running `migrate` again.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  sql(database: string): string;
}

/** A statement `migrate` would run, rendered for a database: what `sluice migrate --dry-run` prints. */
export interface MigrationStep {
  /** The migration version, or 0 for the database and the history table (created before any migration). */
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}
