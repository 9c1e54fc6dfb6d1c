/**
 * One versioned schema change: one statement, applied once, in version order, recorded in
 * `<schema>.migrations`. `sql` renders it for a schema (a quoted identifier, e.g. `"sluice"`).
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  sql(schema: string): string;
}

/** A statement `migrate` would run, rendered for a schema: what `sluice migrate --dry-run` prints. */
export interface MigrationStep {
  /** The migration version, or 0 for the schema and its history table (created before any migration). */
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}
